import { createHash } from 'node:crypto'
import type { Sql } from '../db/database.js'
import type { NormalizedProfile } from '../providers/provider.js'
import type { SealedTokens } from '../providers/token-vault.js'
import { generateSecret, hashSecret } from '../secrets.js'
import { isForeignKeyViolation } from '../db/errors.js'
import { secondsAfter } from '../clock.js'
import type { ClientKind } from '../sessions/access-claims.js'
import { grantFromRow, openSessionFragment, type SessionGrant, type SessionRequestInfo } from '../sessions/store.js'

// The one-time code handed to the frontend: at least 128 bits (we use 256), stored only as its
// hash, short-lived and single-use.

/**
 * A first-time identity's profile on its way to the nickname signup (login_codes.pending_profile,
 * then pending_signups.profile), with the tokens its login brought, sealed for that identity
 * (never in plaintext), which the signup keeps with the new identity.
 */
export interface PendingProfile extends NormalizedProfile { sealedTokens?: SealedTokens }

/** A code signs in a user through one of its identities, or carries a first-time identity's profile to the nickname signup. */
type LoginCodeTarget = { userId: string, identityId: string | null } | { pendingProfile: PendingProfile }

/** What a code is bound to: the hash of the browser's binding cookie, or a PKCE-style S256 challenge. */
export interface CodeBinding { bindingHash?: string, codeChallenge?: string }

/** `client`: a native app's code (PKCE-bound, traded for tokens in the body) redeems only as native, a browser's only as browser. */
export async function createLoginCode (sql: Sql, target: LoginCodeTarget, binding: CodeBinding, now: Date, ttlSeconds: number, client: ClientKind = 'browser'): Promise<string> {
  const code = generateSecret()
  const [userId, identityId, pendingProfile] = 'userId' in target ? [target.userId, target.identityId, null] : [null, null, JSON.stringify(target.pendingProfile)]
  await sql.query(
    `INSERT INTO login_codes (code_hash, user_id, identity_id, pending_profile, browser_binding_hash, code_challenge, created_at, expires_at, client)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [hashSecret(code), userId, identityId, pendingProfile, binding.bindingHash ?? null, binding.codeChallenge ?? null, now, secondsAfter(now, ttlSeconds), client]
  )
  return code
}

/** What the exchanging client proves: its binding cookie and/or the code_verifier. */
interface CodeProof { bindingSecret?: string, codeVerifier?: string }

export type RedeemResult =
  | { status: 'authenticated', grant: SessionGrant }
  /** The signup token is the secret behind the signup cookie (a native app's is in the body); only its hash is stored. */
  | { status: 'signup_required', profile: PendingProfile, signupToken: string }

interface RedeemInfo extends SessionRequestInfo {
  signupTtlSeconds: number
  proof: CodeProof
}

// One statement consumes the code and opens the session (or the pending signup), so either both
// happen or neither does, and of two concurrent redemptions the second finds the code used (it
// waits on the row lock). The session's part comes from the session store, which owns its tables.
// A code redeems only as the kind of client it was issued to ($7), and hands the session and the
// pending signup that kind.
const OPEN_SESSION = openSessionFragment('SELECT user_id, identity_id FROM code WHERE user_id IS NOT NULL', 8)
const REDEEM = `
WITH code AS (
  UPDATE login_codes SET used_at = $2
  WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
    AND (browser_binding_hash IS NULL OR browser_binding_hash = $3)
    AND (code_challenge IS NULL OR code_challenge = $4)
    AND client = $7
  RETURNING user_id, identity_id, pending_profile
), ${OPEN_SESSION.ctes}, pending AS (
  INSERT INTO pending_signups (token_hash, profile, created_at, expires_at, client)
  SELECT $5, pending_profile, $2, $6, $7 FROM code WHERE user_id IS NULL AND pending_profile IS NOT NULL
)
SELECT code.pending_profile, session.id AS session_id, u.id AS user_id, u.nickname, u.avatar_url
FROM code LEFT JOIN session ON true LEFT JOIN users u ON u.id = code.user_id`

interface RedeemRow {
  pending_profile: PendingProfile | null
  session_id: string | null
  user_id: string | null
  nickname: string | null
  avatar_url: string | null
}

/**
 * Consumes a login code presented with the proof it is bound to, by the kind of client it was issued
 * to (`info.client`). Null for an unknown, expired, used or wrongly bound code, or one of the other
 * kind of client: the caller cannot tell which, and a wrong proof does not burn the code.
 */
export async function redeemLoginCode (sql: Sql, code: string, info: RedeemInfo): Promise<RedeemResult | null> {
  const session = OPEN_SESSION.values(info)
  const signupToken = generateSecret()
  const [row] = await sql.query<RedeemRow>(REDEEM, [
    hashSecret(code), info.now,
    info.proof.bindingSecret === undefined ? null : hashSecret(info.proof.bindingSecret),
    info.proof.codeVerifier === undefined ? null : createHash('sha256').update(info.proof.codeVerifier).digest('base64url'),
    hashSecret(signupToken), secondsAfter(info.now, info.signupTtlSeconds), info.client ?? 'browser',
    ...session.values
  ]).catch(error => {
    // The code's account or identity was deleted while this ran: the statement rolled back, the
    // code is gone with it.
    if (isForeignKeyViolation(error, 'sessions_user_id_fkey') || isForeignKeyViolation(error, 'sessions_identity_id_fkey')) return []
    throw error
  })
  if (row === undefined) return null
  if (row.session_id !== null && row.user_id !== null && row.nickname !== null) {
    return { status: 'authenticated', grant: grantFromRow({ ...row, session_id: row.session_id, user_id: row.user_id, nickname: row.nickname }, session.refreshToken) }
  }
  if (row.pending_profile !== null) return { status: 'signup_required', profile: row.pending_profile, signupToken }
  return null
}
