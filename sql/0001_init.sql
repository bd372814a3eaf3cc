-- Foundation schema: machines, raw readings and dead letters.

CREATE TABLE machines (
    machine_id     text PRIMARY KEY,
    machine_type   text,
    rated_power_w  double precision CHECK (rated_power_w IS NULL OR rated_power_w > 0),
    site           text,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per machine, sensor and timestamp: replaying an event changes nothing.
CREATE TABLE readings (
    machine_id   text NOT NULL,
    sensor       text NOT NULL CHECK (sensor IN ('temperature', 'vibration', 'pressure', 'power')),
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    event_id     uuid NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, sensor, ts)
);

-- Fleet-wide time-range scans (feature snapshots, dashboards); BRIN stays tiny on append-mostly data.
CREATE INDEX readings_ts_brin ON readings USING brin (ts);

-- Events the ingestor could not accept, with the reason. A replayed Kafka record maps to the same row.
CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    topic        text,
    "partition"  integer,
    "offset"     bigint,
    key          bytea,
    payload      bytea,
    error        text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, "partition", "offset")
);

CREATE INDEX dead_letters_received_at ON dead_letters (received_at);
