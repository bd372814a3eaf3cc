-- Dead letters: one row per Kafka record, so an ingestor rerun over the same offsets adds nothing (the insert is
-- ON CONFLICT (topic, "partition", "offset") DO NOTHING). 0001 declares the key; this makes sure of it on any
-- database whose table lacks it, after removing duplicates (the earliest row of each record is kept).

DELETE FROM dead_letters later
USING dead_letters earlier
WHERE later.topic = earlier.topic
  AND later."partition" = earlier."partition"
  AND later."offset" = earlier."offset"
  AND (earlier.received_at, earlier.id) < (later.received_at, later.id);

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_index i
        WHERE i.indrelid = 'dead_letters'::regclass
          AND i.indisunique
          AND i.indpred IS NULL
          AND i.indexprs IS NULL
          AND ARRAY(
                SELECT a.attname::text
                FROM unnest(i.indkey::int2[]) AS k(attnum)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                ORDER BY 1
              ) = ARRAY['offset', 'partition', 'topic']
    ) THEN
        ALTER TABLE dead_letters
            ADD CONSTRAINT dead_letters_topic_partition_offset_key UNIQUE (topic, "partition", "offset");
    END IF;
END
$$;
