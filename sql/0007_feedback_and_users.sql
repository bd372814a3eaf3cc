-- The control center: its users, their login sessions, and their labels on issued forecasts.

-- One row per person who can log in. Passwords are stored only as Argon2id hashes (powercast.feedback.users).
CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('operator', 'admin')),
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Login sessions: the browser holds a random token, the table only its SHA-256. A session ends at expires_at
-- (or when the user logs out, which deletes it).
CREATE TABLE user_sessions (
    token_hash    text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX user_sessions_expires_at ON user_sessions (expires_at);

-- Operators' verdicts on matured forecasts (one forecast = one machine and issue minute, all its steps).
-- Append-only: changing a label marks the earlier row superseded and inserts a new one, so the history stays.
CREATE TABLE forecast_feedback (
    id             bigserial PRIMARY KEY,
    machine_id     text NOT NULL,
    issue_ts       timestamptz NOT NULL,
    verdict        text NOT NULL CHECK (verdict IN ('correct', 'incorrect')),
    reason         text CHECK (reason IN ('sensor_fault', 'maintenance', 'unusual_operation', 'model_wrong', 'other')),
    comment        text NOT NULL DEFAULT '',
    model_name     text,
    model_version  text,
    user_id        bigint REFERENCES users (id) ON DELETE SET NULL,
    labelled_by    text NOT NULL,
    labelled_at    timestamptz NOT NULL DEFAULT now(),
    superseded_at  timestamptz,
    superseded_by  bigint REFERENCES forecast_feedback (id),
    CHECK (verdict = 'correct' OR reason IS NOT NULL)
);

-- At most one current label per forecast.
CREATE UNIQUE INDEX forecast_feedback_current ON forecast_feedback (machine_id, issue_ts) WHERE superseded_at IS NULL;
CREATE INDEX forecast_feedback_issue_ts ON forecast_feedback (issue_ts);
CREATE INDEX forecast_feedback_labelled_at ON forecast_feedback (labelled_at);
