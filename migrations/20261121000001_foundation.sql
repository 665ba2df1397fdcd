-- Foundation: people, sessions, severities, incidents, their roles and their timeline.

-- Sessions (tower-sessions-sqlx-store's layout, created here so every schema change is a
-- migration in this folder rather than a side effect of start-up code).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id           BIGSERIAL PRIMARY KEY,
    -- Lower-case sign-in handle; the development sign-in keys on it.
    handle       TEXT NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9][a-z0-9._-]{0,39}$'),
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Severities are data: an admin may rename or add levels; `rank` 1 is the most severe.
CREATE TABLE severities (
    id                      BIGSERIAL PRIMARY KEY,
    key                     TEXT NOT NULL UNIQUE CHECK (key ~ '^[A-Z0-9_-]{1,16}$'),
    name                    TEXT NOT NULL,
    description             TEXT NOT NULL,
    color                   TEXT NOT NULL CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    -- How soon a responder must acknowledge; the SLA board measures against it.
    response_target_seconds INTEGER NOT NULL CHECK (response_target_seconds >= 0),
    rank                    INTEGER NOT NULL UNIQUE
);

INSERT INTO severities (key, name, description, color, response_target_seconds, rank) VALUES
    ('SEV1', 'Critical', 'Critical — respond immediately', '#d92d20', 300, 1),
    ('SEV2', 'Error', 'Error — respond soon', '#e8590c', 3600, 2),
    ('SEV3', 'Warning', 'Warning — within a day or two', '#ca8a04', 172800, 3);

CREATE TABLE incidents (
    id              BIGSERIAL PRIMARY KEY,
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary_md      TEXT NOT NULL DEFAULT '',
    severity_id     BIGINT NOT NULL REFERENCES severities (id),
    status          TEXT NOT NULL
        CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    declared_by     BIGINT NOT NULL REFERENCES users (id),
    declared_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    acknowledged_at TIMESTAMPTZ,
    mitigated_at    TIMESTAMPTZ,
    resolved_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX incidents_open_idx ON incidents (status, severity_id, declared_at DESC);
CREATE INDEX incidents_title_idx ON incidents (lower(title) text_pattern_ops);

-- The timeline is append-only: corrections are new rows (edits, unpins), never updates.
CREATE TABLE timeline_entries (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL CHECK (kind IN (
        'declared', 'status_changed', 'severity_changed', 'role_assigned', 'role_ended',
        'note', 'decision', 'note_edited', 'pinned', 'unpinned')),
    author_id   BIGINT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    -- Kind-specific facts (from/to status, role and holder, target entry), see model.rs.
    details     JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX timeline_entries_incident_idx ON timeline_entries (incident_id, id);

-- Every version of a note or decision; the newest revision is what the room shows.
CREATE TABLE note_revisions (
    entry_id  BIGINT NOT NULL REFERENCES timeline_entries (id),
    revision  INTEGER NOT NULL CHECK (revision >= 1),
    body_md   TEXT NOT NULL CHECK (length(body_md) BETWEEN 1 AND 20000),
    edited_by BIGINT NOT NULL REFERENCES users (id),
    edited_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entry_id, revision)
);

CREATE FUNCTION refuse_change_to_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER timeline_entries_append_only BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_history();
CREATE TRIGGER note_revisions_append_only BEFORE UPDATE OR DELETE ON note_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_history();

-- Live fan-out: every committed entry is announced (ids only) to every replica.
CREATE FUNCTION announce_timeline_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warroom_timeline', NEW.incident_id::text || ':' || NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER timeline_entries_announce AFTER INSERT ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION announce_timeline_entry();

CREATE TABLE role_assignments (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    role        TEXT NOT NULL CHECK (role IN ('commander', 'scribe', 'liaison', 'fixer')),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    assigned_by BIGINT NOT NULL REFERENCES users (id),
    started_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    ended_at    TIMESTAMPTZ,
    ended_by    BIGINT REFERENCES users (id),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
-- One holder at a time for the single-holder roles; a fixer once per person.
CREATE UNIQUE INDEX role_assignments_one_holder ON role_assignments (incident_id, role)
    WHERE ended_at IS NULL AND role <> 'fixer';
CREATE UNIQUE INDEX role_assignments_one_fixer ON role_assignments (incident_id, user_id)
    WHERE ended_at IS NULL AND role = 'fixer';
CREATE INDEX role_assignments_incident_idx ON role_assignments (incident_id, started_at);

-- Who is looking at which incident right now, across all replicas. Unlogged: it is
-- rebuilt by the viewers' heartbeats and worthless after a crash.
CREATE UNLOGGED TABLE room_presence (
    connection_id UUID PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    last_seen     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX room_presence_incident_idx ON room_presence (incident_id);

CREATE FUNCTION announce_presence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('warroom_presence', OLD.incident_id::text);
    ELSE
        PERFORM pg_notify('warroom_presence', NEW.incident_id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER room_presence_announce AFTER INSERT OR DELETE ON room_presence
    FOR EACH ROW EXECUTE FUNCTION announce_presence();
