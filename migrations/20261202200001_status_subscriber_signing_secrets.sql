-- Every request to a status-page subscriber (challenge and deliveries) is signed with a
-- secret of that subscriber's, shown once when it subscribes, so a receiver can refuse
-- forged updates. Existing subscribers get one too: their deliveries are signed from now on.
ALTER TABLE status_subscribers ADD COLUMN signing_secret TEXT;
-- 'whsec_' and 32 bytes in base64url, like the ones Warroom makes (two random UUIDs carry
-- 244 bits from the server's strong random source; SHA-256 spreads them over 32 bytes).
UPDATE status_subscribers
SET signing_secret = 'whsec_' || translate(
    rtrim(encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'base64'), '='),
    '+/', '-_');
ALTER TABLE status_subscribers ALTER COLUMN signing_secret SET NOT NULL;
