-- Features: one-minute aggregates of readings per machine, and the snapshots that record each feature run.

-- One row per machine and minute bucket (ts = bucket start). Per sensor: mean, min, max, sample std, last
-- value (by reading time) and the number of readings; a minute without any reading has no row.
CREATE TABLE features_1m (
    machine_id   text NOT NULL,
    ts           timestamptz NOT NULL,
    power_mean  double precision,
    power_min   double precision,
    power_max   double precision,
    power_std   double precision,
    power_last  double precision,
    power_count integer NOT NULL DEFAULT 0,
    temperature_mean  double precision,
    temperature_min   double precision,
    temperature_max   double precision,
    temperature_std   double precision,
    temperature_last  double precision,
    temperature_count integer NOT NULL DEFAULT 0,
    vibration_mean  double precision,
    vibration_min   double precision,
    vibration_max   double precision,
    vibration_std   double precision,
    vibration_last  double precision,
    vibration_count integer NOT NULL DEFAULT 0,
    pressure_mean  double precision,
    pressure_min   double precision,
    pressure_max   double precision,
    pressure_std   double precision,
    pressure_last  double precision,
    pressure_count integer NOT NULL DEFAULT 0,
    snapshot_id  bigint NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, ts)
);

CREATE INDEX features_1m_ts_brin ON features_1m USING brin (ts);

-- One row per feature run: what it covered and what it changed.
CREATE TABLE feature_snapshots (
    id                  bigserial PRIMARY KEY,
    created_at          timestamptz NOT NULL DEFAULT now(),
    mode                text NOT NULL CHECK (mode IN ('full', 'incremental')),
    range_start         timestamptz,           -- first minute recomputed (NULL: nothing to do)
    range_end           timestamptz,           -- end of the last minute recomputed (exclusive)
    since               timestamptz,           -- the run's --since bound, if any
    until               timestamptz,           -- the run's --until bound, if any
    machines            text[] NOT NULL DEFAULT '{}',
    minutes_recomputed  integer NOT NULL DEFAULT 0,
    row_count           integer NOT NULL DEFAULT 0,   -- rows inserted or changed
    watermark           timestamptz,           -- readings ingested up to here are reflected (NULL: none yet)
    spec_hash           text NOT NULL,
    duration_s          double precision
);

CREATE INDEX feature_snapshots_created_at ON feature_snapshots (created_at);

-- Incremental runs look for readings ingested after the previous watermark.
CREATE INDEX readings_ingested_at_brin ON readings USING brin (ingested_at);
