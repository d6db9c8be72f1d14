-- Native apps (issue 19): a one-time code, a pending signup and a session each belong to one kind of
-- client. A browser's secrets travel in HttpOnly cookies, a native app's in JSON bodies and the
-- Authorization header, and neither is accepted through the other's channel: a code or token copied
-- from one to the other does not work. Existing rows are browsers'.
ALTER TABLE "login_codes" ADD COLUMN "client" TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE "login_codes" ADD CONSTRAINT "login_codes_client_check" CHECK ("client" IN ('browser', 'native'));
ALTER TABLE "pending_signups" ADD COLUMN "client" TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE "pending_signups" ADD CONSTRAINT "pending_signups_client_check" CHECK ("client" IN ('browser', 'native'));
ALTER TABLE "sessions" ADD COLUMN "client" TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_client_check" CHECK ("client" IN ('browser', 'native'));

-- The id_tokens of provider SDKs already used to sign in (POST /auth/:provider/token): each signs in
-- once, whichever form of its nonce comes with it, so one caught on its way cannot be replayed. Only
-- a hash of the provider and the token; kept until every such token has expired.
CREATE TABLE "used_id_tokens" (
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "used_id_tokens_pkey" PRIMARY KEY ("token_hash")
);
CREATE INDEX "used_id_tokens_expires_at_idx" ON "used_id_tokens"("expires_at");
