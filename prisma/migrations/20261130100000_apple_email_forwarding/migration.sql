-- Apple's server-to-server notifications say when a person turns mail forwarding to their private
-- relay address off (email-disabled) or on again (email-enabled). The id_token of a login does not
-- say it, so it is kept apart from email_verified: a login must not turn it back on.
ALTER TABLE "identities" ADD COLUMN "email_forwarding" BOOLEAN NOT NULL DEFAULT true;
-- When the event that last set it happened (Apple's event_time): an older event, late or replayed,
-- must not undo a newer one.
ALTER TABLE "identities" ADD COLUMN "email_forwarding_changed_at" TIMESTAMPTZ(3);
