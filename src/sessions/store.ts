import type { Sql } from '../db/database.js'
import { secondsAfter } from '../clock.js'
import { generateSecret, hashSecret, safeEqual } from '../secrets.js'
import type { PublicUser } from '../users/public-user.js'
import type { ClientKind } from './access-claims.js'
import { RECORD_REVOCATIONS, revocationValues, type RevocationRecord, type Revoker, type RevokedSessions } from './revocations.js'

// Every read and write of the `sessions` and `refresh_tokens` tables. Each function takes the Sql
// handle to run on, which may be a transaction's: a signup opens its session inside its own.
//
// Refresh tokens are opaque secrets; only their hashes are stored. A session is the family of its
// tokens: rotation marks the presented token rotated and inserts the next one, in one statement.

export interface SessionGrant {
  user: PublicUser
  sessionId: string
  refreshToken: string
}

interface GrantRow { session_id: string, user_id: string, nickname: string, avatar_url: string | null }

export const grantFromRow = (row: GrantRow, refreshToken: string): SessionGrant => ({
  user: { id: row.user_id, nickname: row.nickname, avatarUrl: row.avatar_url },
  sessionId: row.session_id,
  refreshToken
})

export interface SessionRequestInfo {
  now: Date
  ttlSeconds: number
  /** SESSION_MAX_LIFETIME_SECONDS: however often it is refreshed, a session ends this long after sign-in. */
  maxLifetimeSeconds: number
  /** The secret of the browser's device cookie (src/sessions/device.ts), or a native app's deviceSecret; sessions store its hash. */
  device?: string
  /** Who holds the session's tokens: a browser (cookies, the default) or a native app (bodies, bearer). */
  client?: ClientKind
  userAgent?: string
  ip?: string
}

/** When a session opened now (and its first refresh token) expires: never past its absolute lifetime. */
const sessionExpiry = (info: SessionRequestInfo): Date => secondsAfter(info.now, Math.min(info.ttlSeconds, info.maxLifetimeSeconds))

const deviceHash = (info: SessionRequestInfo): string | null => info.device === undefined ? null : hashSecret(info.device)

/**
 * The part of a statement that opens a session, and its first refresh token, for the user id and
 * the identity id (the identity whose login opens it, or null) that the query `openings` selects
 * (none: no session): the CTEs `session` (id, user_id) and `first_token`. For a statement that must
 * open the session together with its own change, or neither (a login code's redemption,
 * login-codes.ts). Its values are the parameters `$first` to `$first + 6`.
 */
export function openSessionFragment (openings: string, first: number) {
  const [userAgent, ip, now, expiresAt, tokenHash, device, client] = [0, 1, 2, 3, 4, 5, 6].map(offset => `$${first + offset}`)
  return {
    ctes: `session AS (
  INSERT INTO sessions (user_id, identity_id, user_agent, ip, created_at, last_used_at, expires_at, device_hash, client)
  SELECT user_id, identity_id, ${userAgent}, ${ip}, ${now}, ${now}, ${expiresAt}, ${device}, ${client} FROM (${openings}) AS opening (user_id, identity_id)
  RETURNING id, user_id
), first_token AS (
  INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
  SELECT ${tokenHash}, id, ${now}, ${expiresAt} FROM session
)`,
    /** The values of one opening, and the new refresh token whose hash is among them. */
    values (info: SessionRequestInfo): { refreshToken: string, values: unknown[] } {
      const refreshToken = generateSecret()
      return { refreshToken, values: [info.userAgent ?? null, info.ip ?? null, info.now, sessionExpiry(info), hashSecret(refreshToken), deviceHash(info), info.client ?? 'browser'] }
    }
  }
}

const OPENING = openSessionFragment('SELECT $1::uuid, $2::uuid', 3)
const OPEN = `WITH ${OPENING.ctes}
SELECT session.id AS session_id, u.id AS user_id, u.nickname, u.avatar_url FROM session JOIN users u ON u.id = session.user_id`

/**
 * Opens a session for a user, through one of its identities, with its first refresh token. A user
 * or identity deleted meanwhile fails the foreign key `sessions_user_id_fkey` or
 * `sessions_identity_id_fkey` (the caller decides what that means).
 */
export async function openSession (sql: Pick<Sql, 'query'>, opening: { userId: string, identityId: string | null }, info: SessionRequestInfo): Promise<SessionGrant> {
  const { refreshToken, values } = OPENING.values(info)
  const [row] = await sql.query<GrantRow>(OPEN, [opening.userId, opening.identityId, ...values])
  return grantFromRow(row, refreshToken)
}

// Consumes the presented token only if it is current, unexpired and its session is alive, younger
// than its absolute lifetime ($5 seconds after sign-in, which no rotation moves) and held by the kind
// of client presenting it ($7: a browser's cookie, a native app's body). A concurrent
// rotation of the same token waits on the row lock, then finds it rotated: one winner. A session
// opened before device cookies existed has no device: it adopts the presenting browser's ($6), so it
// gets the two-tab grace from then on instead of never.
const ROTATE = `
WITH rotated AS (
  UPDATE refresh_tokens rt SET rotated_at = $2
  FROM sessions s
  WHERE rt.token_hash = $1 AND rt.rotated_at IS NULL AND rt.expires_at > $2
    AND s.id = rt.session_id AND s.revoked_at IS NULL AND s.client = $7
    AND s.created_at + make_interval(secs => $5) > $2
  RETURNING rt.session_id, LEAST($4::timestamptz, s.created_at + make_interval(secs => $5)) AS expires_at
), session AS (
  UPDATE sessions SET last_used_at = $2, expires_at = (SELECT expires_at FROM rotated), device_hash = COALESCE(device_hash, $6)
  WHERE id = (SELECT session_id FROM rotated)
  RETURNING id, user_id, expires_at, device_hash
), next_token AS (
  INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
  SELECT $3, id, $2, expires_at FROM session
)
SELECT session.id AS session_id, session.expires_at, session.device_hash, u.id AS user_id, u.nickname, u.avatar_url
FROM session JOIN users u ON u.id = session.user_id`

export type RotateResult =
  /**
   * The presented token was current: here is the next one, which expires with the session at
   * `expiresAt`. `sessionDevice`: the session belongs to the presenting browser's device (`info.device`),
   * possibly since this rotation (a session opened before device cookies existed adopts it).
   */
  | { status: 'rotated', grant: SessionGrant, expiresAt: Date, sessionDevice: boolean }
  /**
   * The token was rotated a moment ago by the browser the session was opened in (another tab
   * refreshed at the same time): a new access token, but no new refresh token: the browser already
   * holds the current one.
   */
  | { status: 'grace', grant: Omit<SessionGrant, 'refreshToken'> }
  /** A rotated token came back after the grace window, or from another browser: stolen. The whole session is revoked. */
  | { status: 'reused', userId: string, sessionId: string }
  | { status: 'invalid' }

interface PresentedRow extends GrantRow { rotated_at: Date | null, revoked_at: Date | null, session_expires_at: Date, device_hash: string | null }

/** Whether the presenter's device cookie is that of the browser the session was opened in. */
const sameDevice = (stored: string | null, presented: string | undefined): boolean =>
  stored !== null && presented !== undefined && safeEqual(hashSecret(presented), stored)

/**
 * Rotates a refresh token: the presented one stops working. Reuse detection (RFC 9700 §4.14.2): a
 * token presented again after it was rotated revokes its session, so a stolen token is caught the
 * moment either the thief or the victim uses it after the other. The grace window for two tabs
 * refreshing at once is honoured only for the session's own browser (its device cookie) or app (its
 * deviceSecret): a token copied elsewhere gets nothing from it, even a second after the rotation. A
 * token of the other kind of client (a native session's through a cookie, a browser's in a body) is
 * invalid, and changes nothing: it is not how its holder presents it.
 */
export async function rotateRefreshToken (sql: Sql, presented: string, info: SessionRequestInfo & { graceSeconds: number, revoke: Revoker }): Promise<RotateResult> {
  const next = generateSecret()
  const presentedHash = hashSecret(presented)
  const device = deviceHash(info)
  const [row] = await sql.query<GrantRow & { expires_at: Date, device_hash: string | null }>(ROTATE,
    [presentedHash, info.now, hashSecret(next), secondsAfter(info.now, info.ttlSeconds), info.maxLifetimeSeconds, device, info.client ?? 'browser'])
  if (row !== undefined) {
    return { status: 'rotated', grant: grantFromRow(row, next), expiresAt: row.expires_at, sessionDevice: device !== null && row.device_hash === device }
  }

  const [known] = await sql.query<PresentedRow>(
    `SELECT rt.rotated_at, s.revoked_at, s.expires_at AS session_expires_at, s.device_hash, s.id AS session_id, u.id AS user_id, u.nickname, u.avatar_url
     FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
     WHERE rt.token_hash = $1 AND s.client = $2`, [presentedHash, info.client ?? 'browser'])
  if (known === undefined || known.rotated_at === null || known.revoked_at !== null || known.session_expires_at <= info.now) return { status: 'invalid' }
  const withinGrace = info.now.getTime() - known.rotated_at.getTime() <= info.graceSeconds * 1000
  if (withinGrace && sameDevice(known.device_hash, info.device)) {
    const { refreshToken: _none, ...grant } = grantFromRow(known, '')
    return { status: 'grace', grant }
  }
  await info.revoke(record => revokeSession(sql, { sessionId: known.session_id }, record))
  return { status: 'reused', userId: known.user_id, sessionId: known.session_id }
}

/**
 * Ends the sessions `where` selects (it may use $5 and later; $1 to $4 are the record's), with the
 * revocation's bookkeeping (revocations.ts) in the same statement: it commits with the revocation,
 * or with the caller's transaction, or not at all. Null when no live session matched.
 */
async function endSessions (sql: Pick<Sql, 'query'>, where: string, params: unknown[], record: RevocationRecord): Promise<RevokedSessions | null> {
  const rows = await sql.query<{ id: string, user_id: string }>(
    `WITH ended AS (
       UPDATE sessions SET revoked_at = $1 WHERE (${where}) AND revoked_at IS NULL RETURNING id, user_id
     ), ${RECORD_REVOCATIONS}`,
    [...revocationValues(record), ...params])
  if (rows.length === 0) return null
  return { userId: rows[0].user_id, sessionIds: rows.map(row => row.id) }
}

/**
 * Ends the session a refresh token (presented by its kind of client) or session id belongs to (of
 * this user, when given). Returns what it ended (its user and session id), or null when there was no
 * such live session: nothing changed.
 */
export async function revokeSession (sql: Pick<Sql, 'query'>, by: { sessionId: string, userId?: string } | { refreshToken: string, client: ClientKind }, record: RevocationRecord): Promise<RevokedSessions | null> {
  if ('refreshToken' in by) {
    return endSessions(sql, 'id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $5) AND client = $6', [hashSecret(by.refreshToken), by.client], record)
  }
  return endSessions(sql, 'id = $5 AND ($6::uuid IS NULL OR user_id = $6)', [by.sessionId, by.userId ?? null], record)
}

/** Ends every session of a user ("sign out everywhere", account deletion). Returns them, or null when none was live. */
export async function revokeUserSessions (sql: Pick<Sql, 'query'>, userId: string, record: RevocationRecord): Promise<RevokedSessions | null> {
  return endSessions(sql, 'user_id = $5', [userId], record)
}

/** Ends the sessions an identity's logins opened (the provider says that person left our app). Returns them, or null when none was live. */
export async function revokeIdentitySessions (sql: Pick<Sql, 'query'>, identityId: string, record: RevocationRecord): Promise<RevokedSessions | null> {
  return endSessions(sql, 'identity_id = $5', [identityId], record)
}

/**
 * Locks a user's refresh tokens until the caller's transaction ends, so no rotation of them runs
 * meanwhile (account deletion: create-user.ts says in which order it takes its locks, and why).
 */
export async function lockUserRefreshTokens (tx: Pick<Sql, 'query'>, userId: string): Promise<void> {
  await tx.query('SELECT 1 FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1) FOR UPDATE', [userId])
}

/** The user's session, if it is live (not revoked, not expired): one lookup by primary key. */
export async function findLiveSession (sql: Pick<Sql, 'query'>, { sessionId, userId }: { sessionId: string, userId: string }, now: Date): Promise<{ createdAt: Date } | undefined> {
  const [row] = await sql.query<{ created_at: Date }>(
    'SELECT created_at FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3', [sessionId, userId, now])
  return row === undefined ? undefined : { createdAt: row.created_at }
}

/** The provider of the identity whose login opened this session (revoked or not), or null (a session outlives an identity unlinked since). */
export async function sessionSignInProvider (sql: Pick<Sql, 'query'>, sessionId: string): Promise<string | null> {
  const [row] = await sql.query<{ provider: string }>('SELECT i.provider FROM sessions s JOIN identities i ON i.id = s.identity_id WHERE s.id = $1', [sessionId])
  return row?.provider ?? null
}

export interface SessionSummary { id: string, createdAt: string, lastUsedAt: string, userAgent: string | null, ip: string | null }

/** A user's live sessions, most recently used first. */
export async function listSessions (sql: Sql, userId: string, now: Date): Promise<SessionSummary[]> {
  const rows = await sql.query<{ id: string, created_at: Date, last_used_at: Date, user_agent: string | null, ip: string | null }>(
    `SELECT id, created_at, last_used_at, user_agent, ip FROM sessions
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_used_at DESC`, [userId, now])
  return rows.map(row => ({ id: row.id, createdAt: row.created_at.toISOString(), lastUsedAt: row.last_used_at.toISOString(), userAgent: row.user_agent, ip: row.ip }))
}

/** What purge.ts deletes in one batch: rows past `now`, sessions revoked before `revokedBefore`, at most `limit`. */
export interface PurgeBatch { now: Date, revokedBefore: Date, limit: number }

/** Refresh tokens past their expiry; a rotated one stays until then, as it could still be presented (reuse detection). Returns how many. */
export async function deleteExpiredRefreshTokens (sql: Pick<Sql, 'query'>, { now, limit }: PurgeBatch): Promise<number> {
  const rows = await sql.query(
    'DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2) RETURNING 1', [now, limit])
  return rows.length
}

/** Sessions past their expiry, or revoked before `revokedBefore` (their tokens go with them). Returns how many. */
export async function deleteEndedSessions (sql: Pick<Sql, 'query'>, { now, revokedBefore, limit }: PurgeBatch): Promise<number> {
  const rows = await sql.query(
    'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $2 LIMIT $3) RETURNING 1', [now, revokedBefore, limit])
  return rows.length
}
