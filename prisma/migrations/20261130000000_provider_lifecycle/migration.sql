-- A provider's tokens for one identity (access token, its expiry, refresh token), kept for calls
-- made after the login: Naver's revoke on withdrawal, app.handoff.providerAccessToken. One
-- AES-256-GCM ciphertext of their JSON (src/providers/token-vault.ts), bound to the identity's
-- provider and provider user id, and the id of the key that sealed it (PROVIDER_TOKEN_KEYS
-- rotation). They go with the identity.
CREATE TABLE "provider_tokens" (
    "identity_id" UUID NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_tokens_pkey" PRIMARY KEY ("identity_id")
);
ALTER TABLE "provider_tokens" ADD CONSTRAINT "provider_tokens_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The identity whose login opened a session: when the provider tells us that person left our app,
-- the sessions it opened end. A session outlives an identity its user unlinks (SET NULL).
ALTER TABLE "sessions" ADD COLUMN "identity_id" UUID;
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "sessions_identity_id_idx" ON "sessions"("identity_id");

-- The identity a returning user's one-time code signs in through, for the session its exchange
-- opens. A code minted through an identity that has since been removed signs nobody in (CASCADE).
ALTER TABLE "login_codes" ADD COLUMN "identity_id" UUID;
ALTER TABLE "login_codes" ADD CONSTRAINT "login_codes_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "login_codes_identity_id_idx" ON "login_codes"("identity_id");

-- Grants to revoke at providers after an account deletion or an unlink (src/providers/grant-revocations.ts):
-- written in the deleting transaction, worked off in the background, retried with backoff. No
-- foreign key: the identity is gone by then. The tokens are sealed as in provider_tokens; last_error
-- never holds a token.
CREATE TABLE "provider_grant_revocations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider" TEXT NOT NULL,
    "provider_user_id" TEXT NOT NULL,
    "tokens_ciphertext" TEXT,
    "tokens_key_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_grant_revocations_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "provider_grant_revocations_next_attempt_at_idx" ON "provider_grant_revocations"("next_attempt_at");
