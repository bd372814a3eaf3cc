-- MLOps schema: promotion decisions, issued forecasts, and which model version served when.

-- Every champion/challenger decision and every rollback, with the evidence it was made on.
CREATE TABLE model_promotions (
    id                   bigserial PRIMARY KEY,
    decided_at           timestamptz NOT NULL DEFAULT now(),
    action               text NOT NULL CHECK (action IN ('promote', 'rollback')),
    triggered_by         text NOT NULL,
    registered_model     text NOT NULL,
    champion_version     text,            -- champion before the decision (NULL: none yet)
    challenger_version   text,            -- candidate (for a rollback: the version restored)
    champion_mae         double precision,
    challenger_mae       double precision,
    persistence_mae      double precision,
    margin               double precision,
    rule                 text NOT NULL,
    outcome              text NOT NULL CHECK (outcome IN ('promoted', 'kept', 'rolled_back', 'rejected')),
    reason               text NOT NULL,
    new_champion_version text,            -- champion after the decision
    holdout_start        timestamptz,
    holdout_end          timestamptz,
    details              jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX model_promotions_decided_at ON model_promotions (registered_model, decided_at);

-- Champion periods: from each decision that changed the champion until the next one.
CREATE VIEW champion_history AS
SELECT registered_model,
       new_champion_version AS version,
       decided_at AS valid_from,
       lead(decided_at) OVER (PARTITION BY registered_model ORDER BY decided_at, id) AS valid_to,
       action,
       triggered_by,
       id AS promotion_id
FROM model_promotions
WHERE outcome IN ('promoted', 'rolled_back');

-- One row per machine, issue minute and step; re-issuing a minute replaces it.
CREATE TABLE forecasts (
    machine_id     text NOT NULL,
    issue_ts       timestamptz NOT NULL,
    step           smallint NOT NULL CHECK (step >= 1),
    ts             timestamptz NOT NULL,
    yhat           double precision NOT NULL,
    yhat_lo        double precision,
    yhat_hi        double precision,
    model_name     text NOT NULL,
    model_version  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, issue_ts, step)
);

CREATE INDEX forecasts_issue_ts_brin ON forecasts USING brin (issue_ts);

-- Which model version produced the issued forecasts, and over which span of issue times.
CREATE VIEW forecast_serving_history AS
SELECT model_name, model_version,
       min(issue_ts) AS first_issue_ts,
       max(issue_ts) AS last_issue_ts,
       count(DISTINCT machine_id) AS machines,
       count(DISTINCT (machine_id, issue_ts)) AS forecasts
FROM forecasts
GROUP BY model_name, model_version;
