-- Identity and access: who may sign in and how, what each person may do, the sessions
-- they hold, API tokens for automation, and an append-only audit log.

-- What a person may do. Everyone who used the foundation's sign-in worked incidents,
-- so existing people stay responders; people created from now on start as viewers.
ALTER TABLE users
    ADD COLUMN role TEXT NOT NULL DEFAULT 'responder'
        CHECK (role IN ('viewer', 'responder', 'leadership', 'admin')),
    -- A person signs in; a token's service account only acts through its API token.
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'token')),
    -- Verified address from the identity provider, lower-case.
    ADD COLUMN email TEXT CHECK (email = lower(email)),
    ADD COLUMN last_sign_in_at TIMESTAMPTZ;
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'viewer';
-- Only the development sign-in needs a handle.
ALTER TABLE users ALTER COLUMN handle DROP NOT NULL;
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL;

-- One row per external account (provider key + the provider's stable subject id).
CREATE TABLE identities (
    provider        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sign_in_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user_idx ON identities (user_id);

-- Addresses an admin has invited, with the role they get at their first sign-in.
CREATE TABLE invitations (
    email      TEXT PRIMARY KEY CHECK (email = lower(email) AND email LIKE '%_@_%'),
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'leadership', 'admin')),
    invited_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A signed-in browser. The session cookie only names a row here; the row decides whether
-- it is still valid (absolute and idle expiry, signed out, signed out everywhere), so
-- every replica agrees at once.
CREATE TABLE sign_ins (
    id           UUID PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    method       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ,
    ended_reason TEXT CHECK (ended_reason IN ('signed_out', 'signed_out_everywhere', 'ended_by_user')),
    user_agent   TEXT NOT NULL DEFAULT '',
    source_ip    TEXT NOT NULL DEFAULT '',
    CHECK ((ended_at IS NULL) = (ended_reason IS NULL))
);
CREATE INDEX sign_ins_active_idx ON sign_ins (user_id) WHERE ended_at IS NULL;

-- API tokens: only a SHA-256 of the secret is kept (the secret is 256 random bits, so a
-- slow hash adds nothing). Each token acts as its own service account on timelines.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- The first characters of the secret, shown so people can tell tokens apart.
    prefix       TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL UNIQUE,
    scopes       TEXT[] NOT NULL CHECK (
        cardinality(scopes) > 0 AND scopes <@ ARRAY['incidents:read', 'incidents:write']),
    account_id   BIGINT NOT NULL REFERENCES users (id),
    created_by   BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    revoked_by   BIGINT REFERENCES users (id),
    last_used_at TIMESTAMPTZ,
    last_used_ip TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

-- Security-relevant acts. Append-only like the timeline.
CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    action         TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
    actor_user_id  BIGINT REFERENCES users (id),
    actor_token_id BIGINT REFERENCES api_tokens (id),
    -- What was acted on, in words ("user 12", "token 3", "github").
    target         TEXT NOT NULL DEFAULT '',
    details        JSONB NOT NULL DEFAULT '{}'::jsonb,
    source_ip      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, at DESC);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change_to_history();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_history();
CREATE TRIGGER timeline_entries_no_truncate BEFORE TRUNCATE ON timeline_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_history();

-- Request counters per source and minute, shared by every replica. Unlogged: losing them
-- in a crash only resets the limits.
CREATE UNLOGGED TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
