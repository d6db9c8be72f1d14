import type { Sql } from '../db/database.js'
import { generateSecret, hashSecret, safeEqual } from '../secrets.js'
import { endSessions, type RevocationRecord, type Revoker, type RevokedSessions } from './revocations.js'
import type { PublicUser } from './tokens.js'

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
  /** The secret of the browser's device cookie (src/sessions/device.ts); sessions store its hash. */
  device?: string
  userAgent?: string
  ip?: string
}

const expiry = (now: Date, ttlSeconds: number) => new Date(now.getTime() + ttlSeconds * 1000)

/** When a session opened now (and its first refresh token) expires: never past its absolute lifetime. */
export const sessionExpiry = (info: SessionRequestInfo): Date => expiry(info.now, Math.min(info.ttlSeconds, info.maxLifetimeSeconds))

export const deviceHash = (info: SessionRequestInfo): string | null => info.device === undefined ? null : hashSecret(info.device)

// Consumes the presented token only if it is current, unexpired and its session is alive and younger
// than its absolute lifetime ($5 seconds after sign-in, which no rotation moves). A concurrent
// rotation of the same token waits on the row lock, then finds it rotated: one winner. A session
// opened before device cookies existed has no device: it adopts the presenting browser's ($6), so it
// gets the two-tab grace from then on instead of never.
const ROTATE = `
WITH rotated AS (
  UPDATE refresh_tokens rt SET rotated_at = $2
  FROM sessions s
  WHERE rt.token_hash = $1 AND rt.rotated_at IS NULL AND rt.expires_at > $2
    AND s.id = rt.session_id AND s.revoked_at IS NULL
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
 * refreshing at once is honoured only for the session's own browser (its device cookie): a token
 * copied to another browser gets nothing from it, even a second after the rotation.
 */
export async function rotateRefreshToken (sql: Sql, presented: string, info: SessionRequestInfo & { graceSeconds: number, revoke: Revoker }): Promise<RotateResult> {
  const next = generateSecret()
  const presentedHash = hashSecret(presented)
  const device = deviceHash(info)
  const [row] = await sql.query<GrantRow & { expires_at: Date, device_hash: string | null }>(ROTATE,
    [presentedHash, info.now, hashSecret(next), expiry(info.now, info.ttlSeconds), info.maxLifetimeSeconds, device])
  if (row !== undefined) {
    return { status: 'rotated', grant: grantFromRow(row, next), expiresAt: row.expires_at, sessionDevice: device !== null && row.device_hash === device }
  }

  const [known] = await sql.query<PresentedRow>(
    `SELECT rt.rotated_at, s.revoked_at, s.expires_at AS session_expires_at, s.device_hash, s.id AS session_id, u.id AS user_id, u.nickname, u.avatar_url
     FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
     WHERE rt.token_hash = $1`, [presentedHash])
  if (known === undefined || known.rotated_at === null || known.revoked_at !== null || known.session_expires_at <= info.now) return { status: 'invalid' }
  const withinGrace = info.now.getTime() - known.rotated_at.getTime() <= info.graceSeconds * 1000
  if (withinGrace && sameDevice(known.device_hash, info.device)) {
    const { refreshToken: _none, ...grant } = grantFromRow(known, '')
    return { status: 'grace', grant }
  }
  await info.revoke(record => revokeSession(sql, { sessionId: known.session_id }, record))
  return { status: 'reused', userId: known.user_id, sessionId: known.session_id }
}

/** Ends the session a refresh token or session id belongs to (of this user, when given). */
export async function revokeSession (sql: Pick<Sql, 'query'>, by: { sessionId: string, userId?: string } | { refreshToken: string }, record: RevocationRecord): Promise<RevokedSessions | null> {
  if ('refreshToken' in by) {
    return endSessions(sql, 'id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $5)', [hashSecret(by.refreshToken)], record)
  }
  return endSessions(sql, 'id = $5 AND ($6::uuid IS NULL OR user_id = $6)', [by.sessionId, by.userId ?? null], record)
}

/** Ends every session of a user ("sign out everywhere", account deletion). */
export async function revokeUserSessions (sql: Pick<Sql, 'query'>, userId: string, record: RevocationRecord): Promise<RevokedSessions | null> {
  return endSessions(sql, 'user_id = $5', [userId], record)
}

export interface SessionSummary { id: string, createdAt: string, lastUsedAt: string, userAgent: string | null, ip: string | null }

/** A user's live sessions, most recently used first. */
export async function listSessions (sql: Sql, userId: string, now: Date): Promise<SessionSummary[]> {
  const rows = await sql.query<{ id: string, created_at: Date, last_used_at: Date, user_agent: string | null, ip: string | null }>(
    `SELECT id, created_at, last_used_at, user_agent, ip FROM sessions
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_used_at DESC`, [userId, now])
  return rows.map(row => ({ id: row.id, createdAt: row.created_at.toISOString(), lastUsedAt: row.last_used_at.toISOString(), userAgent: row.user_agent, ip: row.ip }))
}

export { expiry }
