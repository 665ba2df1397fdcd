-- Public status page: branding, components and groups, the public side of incidents
-- (public title, privacy, component impacts, public updates), scheduled maintenance and
-- webhook subscribers. Public ids are random so public pages do not reveal how many
-- private incidents exist. Background jobs live in the `underway` schema (the queue
-- crate's own migrations, applied at start).

CREATE FUNCTION new_public_id() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 12)
$$;

-- One row: how the public page presents itself.
CREATE TABLE status_settings (
    id           BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    page_name    TEXT NOT NULL DEFAULT 'Service status' CHECK (length(page_name) BETWEEN 1 AND 80),
    logo_url     TEXT CHECK (logo_url ~ '^https?://' AND length(logo_url) <= 500),
    accent_color TEXT NOT NULL DEFAULT '#1f6feb' CHECK (accent_color ~ '^#[0-9a-fA-F]{6}$'),
    -- Links in the page header: [{"label": "...", "url": "https://..."}], at most 5.
    links        JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(links) = 'array'),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO status_settings DEFAULT VALUES;

CREATE TABLE status_component_groups (
    id          BIGSERIAL PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE DEFAULT new_public_id(),
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- Groups and ungrouped components share one top-level order.
    position    INTEGER NOT NULL,
    hidden      BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE status_components (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE DEFAULT new_public_id(),
    group_id        BIGINT REFERENCES status_component_groups (id),
    name            TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    position        INTEGER NOT NULL,
    hidden          BOOLEAN NOT NULL DEFAULT false,
    -- Set by an admin, it wins over what incidents and maintenance say.
    status_override TEXT CHECK (status_override IN (
        'operational', 'degraded_performance', 'partial_outage', 'major_outage',
        'under_maintenance')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The public side of an incident. It is on the status page once it has a public update,
-- unless kept private (then it never gets one).
ALTER TABLE incidents
    ADD COLUMN public_id    TEXT NOT NULL UNIQUE DEFAULT new_public_id(),
    ADD COLUMN public_title TEXT CHECK (length(public_title) BETWEEN 1 AND 200),
    ADD COLUMN private      BOOLEAN NOT NULL DEFAULT false;

-- Which components an incident affects, and how, over time: a change ends the current
-- row and starts a new one; a resolving public update ends them all. Uptime history is
-- computed from these intervals.
CREATE TABLE incident_component_impacts (
    id           BIGSERIAL PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents (id),
    component_id BIGINT NOT NULL REFERENCES status_components (id),
    impact       TEXT NOT NULL
        CHECK (impact IN ('degraded_performance', 'partial_outage', 'major_outage')),
    started_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    ended_at     TIMESTAMPTZ,
    set_by       BIGINT NOT NULL REFERENCES users (id),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX incident_component_impacts_current
    ON incident_component_impacts (incident_id, component_id) WHERE ended_at IS NULL;
CREATE INDEX incident_component_impacts_component_idx
    ON incident_component_impacts (component_id, started_at);

CREATE TABLE maintenances (
    id              BIGSERIAL PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE DEFAULT new_public_id(),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    scheduled_for   TIMESTAMPTZ NOT NULL,
    scheduled_until TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'in_progress', 'completed')),
    started_at      TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ,
    created_by      BIGINT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (scheduled_until > scheduled_for)
);
CREATE INDEX maintenances_due_idx ON maintenances (status, scheduled_for, scheduled_until);

CREATE TABLE maintenance_components (
    maintenance_id BIGINT NOT NULL REFERENCES maintenances (id),
    component_id   BIGINT NOT NULL REFERENCES status_components (id),
    PRIMARY KEY (maintenance_id, component_id)
);

-- What the public reads. Append-only like the timeline: corrections are new updates.
CREATE TABLE public_updates (
    id             BIGSERIAL PRIMARY KEY,
    public_id      TEXT NOT NULL UNIQUE DEFAULT new_public_id(),
    incident_id    BIGINT REFERENCES incidents (id),
    maintenance_id BIGINT REFERENCES maintenances (id),
    status         TEXT NOT NULL,
    body_md        TEXT NOT NULL CHECK (length(body_md) BETWEEN 1 AND 5000),
    -- Never shown publicly; NULL when Warroom posted it itself (maintenance start/end).
    author_id      BIGINT REFERENCES users (id),
    -- The components' statuses as this update left them: [{"component_id": 1,
    -- "status": "major_outage"}]; the page derives old → new from the previous update.
    components     JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(components) = 'array'),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    CHECK ((incident_id IS NULL) <> (maintenance_id IS NULL)),
    CHECK (incident_id IS NULL
        OR status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    CHECK (maintenance_id IS NULL OR status IN ('scheduled', 'in_progress', 'completed'))
);
CREATE INDEX public_updates_incident_idx ON public_updates (incident_id, id);
CREATE INDEX public_updates_maintenance_idx ON public_updates (maintenance_id, id);
CREATE TRIGGER public_updates_append_only BEFORE UPDATE OR DELETE ON public_updates
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_history();
CREATE TRIGGER public_updates_no_truncate BEFORE TRUNCATE ON public_updates
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_history();

-- The room's timeline records the public side too.
ALTER TABLE timeline_entries DROP CONSTRAINT timeline_entries_kind_check;
ALTER TABLE timeline_entries ADD CONSTRAINT timeline_entries_kind_check CHECK (kind IN (
    'declared', 'status_changed', 'severity_changed', 'role_assigned', 'role_ended',
    'note', 'decision', 'note_edited', 'pinned', 'unpinned',
    'public_update', 'impact_changed', 'visibility_changed'));

-- Webhook subscribers. A subscription counts once the URL echoed its challenge.
CREATE TABLE status_subscribers (
    id                BIGSERIAL PRIMARY KEY,
    url               TEXT NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    challenge         TEXT NOT NULL,
    -- Sent with every delivery; whoever holds it may unsubscribe.
    unsubscribe_token TEXT NOT NULL UNIQUE,
    confirmed_at      TIMESTAMPTZ,
    unsubscribed_at   TIMESTAMPTZ,
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX status_subscribers_active_url
    ON status_subscribers (url) WHERE unsubscribed_at IS NULL;

-- One row per (update, subscriber): the job that delivers it, and whether it arrived.
-- The primary key is what keeps a subscriber from getting one update twice.
CREATE TABLE status_deliveries (
    update_id     BIGINT NOT NULL REFERENCES public_updates (id),
    subscriber_id BIGINT NOT NULL REFERENCES status_subscribers (id),
    enqueued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    delivered_at  TIMESTAMPTZ,
    PRIMARY KEY (update_id, subscriber_id)
);

-- Every replica rebuilds its in-memory status page when anything public changes.
CREATE FUNCTION announce_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warroom_status', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER status_settings_announce AFTER INSERT OR UPDATE OR DELETE ON status_settings
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER status_component_groups_announce
    AFTER INSERT OR UPDATE OR DELETE ON status_component_groups
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER status_components_announce AFTER INSERT OR UPDATE OR DELETE ON status_components
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER incident_component_impacts_announce
    AFTER INSERT OR UPDATE OR DELETE ON incident_component_impacts
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER maintenances_announce AFTER INSERT OR UPDATE OR DELETE ON maintenances
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER maintenance_components_announce
    AFTER INSERT OR UPDATE OR DELETE ON maintenance_components
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
CREATE TRIGGER public_updates_announce AFTER INSERT ON public_updates
    FOR EACH STATEMENT EXECUTE FUNCTION announce_status_change();
-- Incidents change often; only their public fields matter here.
CREATE TRIGGER incidents_public_announce AFTER UPDATE ON incidents
    FOR EACH ROW WHEN (OLD.public_title IS DISTINCT FROM NEW.public_title
                       OR OLD.private IS DISTINCT FROM NEW.private)
    EXECUTE FUNCTION announce_status_change();
