-- Email linking compares exact addresses. The normalized form (trimmed, lower-cased) is computed by
-- the database itself, so every writer agrees on it, and is compared with `=`: never a pattern
-- (ILIKE made `_` and `%` in a provider's email wildcards).
ALTER TABLE "identities" ADD COLUMN "email_normalized" TEXT GENERATED ALWAYS AS (lower(btrim("email", E' \t\r\n'))) STORED;
ALTER TABLE "users" ADD COLUMN "email_normalized" TEXT GENERATED ALWAYS AS (lower(btrim("email", E' \t\r\n'))) STORED;
DROP INDEX IF EXISTS "identities_email_idx";
CREATE INDEX "identities_email_normalized_idx" ON "identities"("email_normalized");
CREATE INDEX "users_email_normalized_idx" ON "users"("email_normalized");

-- The browser a session was opened in (hash of its HttpOnly device cookie): a just-rotated refresh
-- token is honoured in the grace window only when presented by that browser.
ALTER TABLE "sessions" ADD COLUMN "device_hash" TEXT;

-- Sessions revoked while access tokens of theirs may still be unexpired. Each instance keeps these
-- ids in memory and refuses their access tokens at once; a restarted instance loads the live ones.
-- No foreign key: a deleted account's sessions are gone, their revocations must stay.
CREATE TABLE "revoked_sessions" (
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "revoked_sessions_pkey" PRIMARY KEY ("session_id")
);
CREATE INDEX "revoked_sessions_expires_at_idx" ON "revoked_sessions"("expires_at");

-- The dev provider's form let anyone type any address and tick "verified" (and it ran on any
-- non-production host): such rows must not count as verified owners of an address, or a victim's
-- first real login would join the account of whoever typed their address there.
UPDATE "identities" SET "email_verified" = false WHERE "provider" = 'dev' AND "email_verified";
UPDATE "users" u SET "email_verified" = false
WHERE u."email_verified"
  AND EXISTS (SELECT 1 FROM "identities" d WHERE d."user_id" = u."id" AND d."provider" = 'dev')
  AND NOT EXISTS (
    SELECT 1 FROM "identities" i
    WHERE i."user_id" = u."id" AND i."provider" <> 'dev' AND i."email_verified" AND i."email_normalized" = u."email_normalized");
