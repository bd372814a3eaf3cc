-- readings becomes a table partitioned by time: one range partition per UTC day, named readings_pYYYYMMDD.
-- The key stays (machine_id, sensor, ts): it holds the partition key, so ON CONFLICT keeps replays harmless.
-- Old days are dropped whole (POWERCAST_READINGS_RETENTION_DAYS) instead of deleted row by row; queries bounded
-- by ts read only the days they touch.

ALTER TABLE readings RENAME TO readings_unpartitioned;
ALTER TABLE readings_unpartitioned RENAME CONSTRAINT readings_pkey TO readings_unpartitioned_pkey;
ALTER INDEX readings_ts_brin RENAME TO readings_unpartitioned_ts_brin;
ALTER INDEX readings_ingested_at_brin RENAME TO readings_unpartitioned_ingested_at_brin;

CREATE TABLE readings (
    machine_id   text NOT NULL,
    sensor       text NOT NULL CHECK (sensor IN ('temperature', 'vibration', 'pressure', 'power')),
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    event_id     uuid NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, sensor, ts)
) PARTITION BY RANGE (ts);

CREATE INDEX readings_ts_brin ON readings USING brin (ts);
CREATE INDEX readings_ingested_at_brin ON readings USING brin (ingested_at);

-- Rows of a day that has no partition yet (a direct insert far in the past or the future) land in the default
-- partition instead of failing; creating that day's partition moves them into it.
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

-- Creates the daily partitions of [first_day, last_day] that do not exist yet, moving the rows the default
-- partition holds for those days; returns how many it created. An advisory lock keeps two ingestors (or an
-- ingestor and the feature job) from racing on the same day.
CREATE FUNCTION readings_create_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    part text;
    lo timestamptz;
    hi timestamptz;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(7422614010);
    FOR day IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        part := format('readings_p%s', to_char(day, 'YYYYMMDD'));
        IF to_regclass(part) IS NULL THEN
            lo := day::timestamp AT TIME ZONE 'UTC';
            hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
            EXECUTE format('CREATE TABLE %I (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            EXECUTE format(
                'WITH moved AS (DELETE FROM readings_default WHERE ts >= %L AND ts < %L RETURNING *) '
                'INSERT INTO %I SELECT * FROM moved', lo, hi, part);
            EXECUTE format('ALTER TABLE readings ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the daily partitions of days before `before_day` and deletes the default partition's rows before it;
-- returns the names of the partitions dropped.
CREATE FUNCTION readings_drop_partitions(before_day date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    PERFORM pg_advisory_xact_lock(7422614010);
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass AND c.relname ~ '^readings_p[0-9]{8}$'
          AND to_date(substr(c.relname, 11), 'YYYYMMDD') < before_day
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        RETURN NEXT part.relname;
    END LOOP;
    DELETE FROM readings_default WHERE ts < (before_day::timestamp AT TIME ZONE 'UTC');
END
$$;

-- The days that already hold readings, and the week ahead.
SELECT readings_create_partitions(day, day)
FROM (SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day FROM readings_unpartitioned) days;
SELECT readings_create_partitions((now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 7);

INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id, ingested_at)
SELECT machine_id, sensor, ts, value, unit, event_id, ingested_at FROM readings_unpartitioned;
DROP TABLE readings_unpartitioned;

-- Privileges do not carry over to a new table: the Grafana role read the old one (0006).
GRANT SELECT ON readings TO powercast_grafana;
