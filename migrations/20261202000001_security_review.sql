-- Fixes from the security review of 2026-12: Markdown rendered once when written, live
-- streams that end with their sign-in, a cap on streams per sign-in, and a key for
-- signing the error messages Warroom puts into URLs.

-- Markdown is rendered when it is written: the sanitised HTML is kept beside its source
-- with the version of the renderer that made it. A read renders again only rows an older
-- renderer made (NULL: written before this migration), and a start-up pass rewrites them.
ALTER TABLE note_revisions ADD COLUMN body_html TEXT, ADD COLUMN html_version SMALLINT;
ALTER TABLE incidents ADD COLUMN summary_html TEXT, ADD COLUMN summary_html_version SMALLINT;
ALTER TABLE public_updates ADD COLUMN body_html TEXT, ADD COLUMN html_version SMALLINT;

-- What people wrote stays append-only; only its rendering (derived data) may be replaced.
CREATE FUNCTION refuse_change_except_rendering() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'body_html' - 'html_version')
           = (to_jsonb(OLD) - 'body_html' - 'html_version') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
DROP TRIGGER note_revisions_append_only ON note_revisions;
CREATE TRIGGER note_revisions_append_only BEFORE UPDATE OR DELETE ON note_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_except_rendering();
DROP TRIGGER public_updates_append_only ON public_updates;
CREATE TRIGGER public_updates_append_only BEFORE UPDATE OR DELETE ON public_updates
    FOR EACH ROW EXECUTE FUNCTION refuse_change_except_rendering();
CREATE TRIGGER note_revisions_no_truncate BEFORE TRUNCATE ON note_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_history();

-- Live streams end when their sign-in ends or their person's role changes: every replica
-- hears it (payload: the person's id) and checks its streams of that person at once.
CREATE FUNCTION announce_sign_in_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warroom_access', NEW.user_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER sign_ins_announce_end AFTER UPDATE OF ended_at ON sign_ins
    FOR EACH ROW WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION announce_sign_in_end();
CREATE FUNCTION announce_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warroom_access', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER users_announce_role_change AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION announce_role_change();

-- Which sign-in each live stream belongs to, so streams per sign-in can be capped across
-- replicas (NULL for rows of replicas that predate this column).
ALTER TABLE room_presence ADD COLUMN sign_in_id UUID;
CREATE INDEX room_presence_sign_in_idx ON room_presence (sign_in_id);

-- Secrets every replica shares, made here once. `form_errors` signs the error messages
-- that form posts without JavaScript carry back in the page's URL, so a crafted link
-- cannot make a page show someone else's words as Warroom's.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     BYTEA NOT NULL CHECK (length(secret) >= 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO server_secrets (name, secret) VALUES
    ('form_errors', sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')));
