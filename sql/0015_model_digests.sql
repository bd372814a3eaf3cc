-- The artifact digest of every model version training registered. The forecasting service (and promotion) load
-- a version only when the artifacts they download hash to the digest recorded here, so a version registered or
-- re-aliased by hand in MLflow (whose pickled model would run code on load) is refused.

CREATE TABLE model_digests (
    registered_model text NOT NULL,
    version text NOT NULL,
    run_id text,
    digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registered_model, version)
);
