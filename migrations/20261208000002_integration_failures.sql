-- The last failure of each integration per target (a subscriber, a Slack channel, a
-- repository), for admin pages: what failed, how (the HTTP status, whether retrying can
-- help) and since when. A success removes the target's row; targets are named without
-- secrets (ids, never URLs).
CREATE TABLE integration_failures (
    integration     TEXT NOT NULL,
    target          TEXT NOT NULL,
    error           TEXT NOT NULL,
    http_status     SMALLINT,
    -- A permanent failure is not retried: it waits for an admin.
    permanent       BOOLEAN NOT NULL,
    -- Failures in a row since the last success.
    failures        INTEGER NOT NULL DEFAULT 1,
    first_failed_at TIMESTAMPTZ NOT NULL,
    last_failed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (integration, target)
);
