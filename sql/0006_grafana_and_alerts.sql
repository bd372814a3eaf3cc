-- Grafana: a read-only role for its data source, the per machine type sensor limits its dashboards and alert
-- rules share, and the alerts its webhook contact point delivers to `powercast alerts serve`.

-- Limits per machine type and sensor, in the sensor's unit, or for power (relative_to_rated) as a share of the
-- machine's rated power. The rows below fit the simulator's four machine types; edit them for a real fleet.
CREATE TABLE machine_type_limits (
    machine_type       text NOT NULL,
    sensor             text NOT NULL CHECK (sensor IN ('temperature', 'vibration', 'pressure', 'power')),
    warn_high          double precision NOT NULL,
    alarm_high         double precision NOT NULL,
    relative_to_rated  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (machine_type, sensor),
    CHECK (alarm_high >= warn_high)
);

INSERT INTO machine_type_limits (machine_type, sensor, warn_high, alarm_high, relative_to_rated) VALUES
    ('cnc_mill',         'temperature',  57,   62,   false),
    ('cnc_mill',         'vibration',    6.0,  7.0,  false),
    ('cnc_mill',         'pressure',     6.4,  6.7,  false),
    ('cnc_mill',         'power',        1.15, 1.25, true),
    ('injection_molder', 'temperature',  75,   80,   false),
    ('injection_molder', 'vibration',    5.5,  6.5,  false),
    ('injection_molder', 'pressure',     178,  186,  false),
    ('injection_molder', 'power',        1.15, 1.25, true),
    ('hydraulic_press',  'temperature',  58,   62,   false),
    ('hydraulic_press',  'vibration',    9.5,  11.0, false),
    ('hydraulic_press',  'pressure',     272,  290,  false),
    ('hydraulic_press',  'power',        1.15, 1.25, true),
    ('air_compressor',   'temperature',  60,   65,   false),
    ('air_compressor',   'vibration',    6.0,  7.0,  false),
    ('air_compressor',   'pressure',     8.8,  9.2,  false),
    ('air_compressor',   'power',        1.15, 1.25, true);

-- One row per alert episode (Grafana's fingerprint of the label set, and when it started firing): a webhook
-- delivered twice, or re-sent at the repeat interval, changes nothing; the resolved notification updates it.
CREATE TABLE alerts (
    id             bigserial PRIMARY KEY,
    fingerprint    text NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz,                 -- NULL while firing
    status         text NOT NULL CHECK (status IN ('firing', 'resolved')),
    alertname      text NOT NULL,
    machine_id     text,                        -- the `machine` label, when the rule has one
    severity       text,
    labels         jsonb NOT NULL DEFAULT '{}'::jsonb,
    annotations    jsonb NOT NULL DEFAULT '{}'::jsonb,
    observed       jsonb NOT NULL DEFAULT '{}'::jsonb,   -- the payload's `values`: each query's value at evaluation
    generator_url  text,
    receiver       text,
    received_at    timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fingerprint, starts_at)
);

CREATE INDEX alerts_starts_at ON alerts (starts_at);
CREATE INDEX alerts_machine_starts_at ON alerts (machine_id, starts_at);

-- The role Grafana's data source logs in as. Roles belong to the server, so a second database on the same
-- server finds it already there. No password here: `powercast alerts grafana-password` sets it from
-- POWERCAST_GRAFANA_DB_PASSWORD. Every session starts read-only and a runaway panel query is cut at 30 s.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'powercast_grafana') THEN
        CREATE ROLE powercast_grafana LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO powercast_grafana', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO powercast_grafana', current_schema());
END
$$;

ALTER ROLE powercast_grafana SET default_transaction_read_only = on;
ALTER ROLE powercast_grafana SET statement_timeout = '30s';

-- Exactly the tables the dashboards and alert rules read (tests/grafana checks the two lists agree).
GRANT SELECT ON machines, readings, features_1m, feature_snapshots, forecasts, model_promotions, dead_letters,
    machine_type_limits TO powercast_grafana;
