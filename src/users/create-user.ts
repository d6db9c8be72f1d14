import type { Sql } from '../db/database.js'
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js'
import type { UserCreatedCallback } from '../lifecycle-hooks.js'
import { NicknameTakenError } from '../errors.js'
import type { PendingProfile } from '../auth/login-codes.js'
import { insertSealedTokens } from '../providers/provider-tokens.js'
import { hashSecret } from '../secrets.js'
import { openSession, type SessionGrant, type SessionRequestInfo } from '../sessions/store.js'

// A first-time user becomes an account here: the pending signup (presented by the kind of client it
// was issued to, `info.client`) is consumed and the user, its identity and its first session (of that
// kind) are created in one transaction. Nickname uniqueness is the
// database's unique index on the folded form, so of two people racing for one nickname one
// commits and the other gets 409, never a 500.

type SignupResult =
  | { status: 'created', grant: SessionGrant }
  /** The identity was registered meanwhile (another tab finished first): signed in to that account. */
  | { status: 'existing', grant: SessionGrant }
  | { status: 'no_pending_signup' }

export async function completeSignup (sql: Sql, signupToken: string, nickname: { nickname: string, key: string }, info: SessionRequestInfo, onCreated?: UserCreatedCallback): Promise<SignupResult> {
  try {
    return await signupTransaction(sql, signupToken, nickname, info, onCreated)
  } catch (error) {
    // Two tabs signed up the same identity at once and the other committed first: everything here
    // rolled back, so run again, which now finds that identity and signs in to its account.
    if (isUniqueViolation(error, 'identities_provider_provider_user_id_key')) return signupTransaction(sql, signupToken, nickname, info, onCreated)
    // The identity (or its account) was deleted after we found it: nothing was saved, and there is
    // no account to sign in to (the answer is signup_invalid: sign in again).
    if (isForeignKeyViolation(error, 'sessions_user_id_fkey') || isForeignKeyViolation(error, 'sessions_identity_id_fkey')) return { status: 'no_pending_signup' }
    throw error
  }
}

function signupTransaction (sql: Sql, signupToken: string, nickname: { nickname: string, key: string }, info: SessionRequestInfo, onCreated?: UserCreatedCallback): Promise<SignupResult> {
  return sql.transaction(async tx => {
    const [pending] = await tx.query<{ profile: PendingProfile }>(
      `UPDATE pending_signups SET used_at = $2
       WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND client = $3 RETURNING profile`,
      [hashSecret(signupToken), info.now, info.client ?? 'browser'])
    if (pending === undefined) return { status: 'no_pending_signup' }
    const profile = pending.profile

    const [existing] = await tx.query<{ id: string, user_id: string }>(
      'SELECT id, user_id FROM identities WHERE provider = $1 AND provider_user_id = $2', [profile.provider, profile.providerUserId])
    let userId = existing?.user_id
    let identityId = existing?.id
    if (userId === undefined) {
      const verifiedEmail = profile.emailVerified ? profile.email ?? null : null
      try {
        const [user] = await tx.query<{ id: string }>(
          `INSERT INTO users (nickname, nickname_key, name, email, email_verified, avatar_url, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
          [nickname.nickname, nickname.key, profile.name ?? null, verifiedEmail, verifiedEmail !== null, profile.avatarUrl ?? null, info.now])
        userId = user.id
      } catch (error) {
        // Rolls the whole transaction back: the pending signup stays usable for another nickname.
        if (isUniqueViolation(error, 'users_nickname_key_key')) throw new NicknameTakenError()
        throw error
      }
      const [identity] = await tx.query<{ id: string }>(
        `INSERT INTO identities (user_id, provider, provider_user_id, email, email_verified, display_name, avatar_url, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
        [userId, profile.provider, profile.providerUserId, profile.email ?? null, profile.emailVerified, profile.name ?? profile.nickname ?? null, profile.avatarUrl ?? null, info.now])
      identityId = identity.id
      // The login's tokens, sealed for this very identity when they were received: kept as they are.
      const sealed = profile.sealedTokens
      if (typeof sealed?.ciphertext === 'string' && typeof sealed.keyId === 'string') await insertSealedTokens(tx, identityId, sealed, info.now)
      // The app's own rows, in this transaction: if it throws, no account exists.
      await onCreated?.(tx, { id: userId, nickname: nickname.nickname, avatarUrl: profile.avatarUrl ?? null }, profile)
    }

    const grant = await openSession(tx, { userId, identityId: identityId ?? null }, info)
    return { status: existing === undefined ? 'created' : 'existing', grant }
  })
}
