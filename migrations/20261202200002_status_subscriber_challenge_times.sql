-- When a subscription's latest challenge was sent or last failed. Subscriptions never
-- confirmed are deleted a week after it, so anonymous sign-ups cannot grow the table
-- forever. Existing rows count from now.
ALTER TABLE status_subscribers ADD COLUMN last_challenge_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX status_subscribers_unconfirmed
    ON status_subscribers (last_challenge_at) WHERE confirmed_at IS NULL;
