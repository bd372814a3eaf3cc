-- Monitoring: drift reports (one row per check, Evidently's HTML stored in MLflow) and the quality of matured
-- forecasts (each forecast step scored against the actual one-minute power once its minute has passed).

CREATE TABLE drift_reports (
    id                     bigserial PRIMARY KEY,
    created_at             timestamptz NOT NULL DEFAULT now(),
    window_start           timestamptz NOT NULL,
    window_end             timestamptz NOT NULL,
    reference_start        timestamptz,
    reference_end          timestamptz,
    model_version          text,                      -- the champion whose training window is the reference
    reference_rows         integer NOT NULL DEFAULT 0,
    current_rows           integer NOT NULL DEFAULT 0,
    drifted_share          double precision,          -- NULL: no drift test could run
    top_features           jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{feature, method, score, threshold, drifted}]
    prediction_drift_score double precision,
    current_mae            double precision,          -- matured forecasts in the window
    reference_mae          double precision,          -- the champion's cross-validation MAE
    error_ratio            double precision,
    rejected_rate          double precision NOT NULL DEFAULT 0,  -- share of labelled forecasts marked incorrect
    decision               text NOT NULL CHECK (decision IN ('retrain', 'ok', 'insufficient_data')),
    reason                 text NOT NULL,
    notes                  jsonb NOT NULL DEFAULT '[]'::jsonb,
    report_uri             text,
    triggered_run          text                       -- the train_models run the report triggered, if any
);

CREATE INDEX drift_reports_created_at ON drift_reports (created_at);

CREATE TABLE forecast_quality (
    machine_id     text NOT NULL,
    issue_ts       timestamptz NOT NULL,
    step           smallint NOT NULL,
    ts             timestamptz NOT NULL,
    model_name     text NOT NULL,
    model_version  text NOT NULL,
    yhat           double precision NOT NULL,
    yhat_lo        double precision,
    yhat_hi        double precision,
    actual         double precision NOT NULL,
    abs_error      double precision NOT NULL,
    inside_band    boolean,
    scored_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, issue_ts, step)
);

CREATE INDEX forecast_quality_ts_brin ON forecast_quality USING brin (ts);
