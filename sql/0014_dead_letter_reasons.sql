-- Each dead letter carries a reason code next to its message (the ingestor counts them per reason in /metrics and
-- the pipeline dashboard groups by it). Rows written before this get the code their message implies.

ALTER TABLE dead_letters ADD COLUMN reason text;

UPDATE dead_letters SET reason = CASE
    WHEN payload IS NULL OR error LIKE 'empty record%' THEN 'empty'
    WHEN error LIKE 'not valid JSON%' THEN 'json'
    WHEN error LIKE 'ts % in the future' THEN 'future'
    WHEN error LIKE 'ts % is before %' THEN 'range'
    WHEN error LIKE 'rejected by PostgreSQL%' THEN 'database'
    ELSE 'schema'
END;

ALTER TABLE dead_letters ALTER COLUMN reason SET NOT NULL;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_reason_known
    CHECK (reason IN ('empty', 'too_large', 'json', 'schema', 'range', 'future', 'key_mismatch', 'database'));
