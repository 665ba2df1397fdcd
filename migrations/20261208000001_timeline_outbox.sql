-- The timeline is the outbox. Every entry appended (`timeline::store::append_entry`) is
-- queued here in the same transaction; a dispatcher on every replica claims queued
-- entries (FOR UPDATE SKIP LOCKED), enqueues the job of each integration that subscribes
-- to the entry's kind (server/src/jobs/timeline.rs) and removes the row, in one
-- transaction: an entry is handed to its integrations once, and never lost. Entries
-- written before this table existed are not queued (their effects already happened).
CREATE TABLE timeline_outbox (
    entry_id    BIGINT PRIMARY KEY REFERENCES timeline_entries (id),
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    -- Copied from the entry, so the dispatcher picks subscribers without a join.
    kind        TEXT NOT NULL,
    queued_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
