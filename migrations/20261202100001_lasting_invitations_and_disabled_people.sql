-- Invitations are lasting grants: accepting one (the first sign-in) no longer removes
-- it, so an invited person not on an allow-list can sign in again; admins list the ones
-- still pending.
ALTER TABLE invitations
    ADD COLUMN accepted_at TIMESTAMPTZ,
    ADD COLUMN accepted_by BIGINT REFERENCES users (id),
    ADD CHECK ((accepted_at IS NULL) = (accepted_by IS NULL));

-- Admins disable a person (someone who left): every sign-in of theirs ends at once and no
-- sign-in method lets them in again until an admin enables them.
ALTER TABLE users
    ADD COLUMN disabled_at TIMESTAMPTZ,
    ADD COLUMN disabled_by BIGINT REFERENCES users (id),
    ADD CHECK (disabled_by IS NULL OR disabled_at IS NOT NULL);

-- Sign-ins ended by an admin: all of a person's ('ended_by_admin') or by disabling them.
ALTER TABLE sign_ins DROP CONSTRAINT sign_ins_ended_reason_check;
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_ended_reason_check CHECK (ended_reason IN (
    'signed_out', 'signed_out_everywhere', 'ended_by_user', 'ended_by_admin', 'disabled'));
