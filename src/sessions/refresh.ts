import type { Sql } from '../db/database.js'
import { generateSecret, hashSecret } from '../secrets.js'
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
  userAgent?: string
  ip?: string
}

const expiry = (now: Date, ttlSeconds: number) => new Date(now.getTime() + ttlSeconds * 1000)

// Consumes the presented token only if it is current, unexpired and its session is alive. A
// concurrent rotation of the same token waits on the row lock, then finds it rotated: one winner.
const ROTATE = `
WITH rotated AS (
  UPDATE refresh_tokens rt SET rotated_at = $2
  FROM sessions s
  WHERE rt.token_hash = $1 AND rt.rotated_at IS NULL AND rt.expires_at > $2
    AND s.id = rt.session_id AND s.revoked_at IS NULL
  RETURNING rt.session_id
), session AS (
  UPDATE sessions SET last_used_at = $2, expires_at = $4
  WHERE id = (SELECT session_id FROM rotated)
  RETURNING id, user_id
), next_token AS (
  INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
  SELECT $3, id, $2, $4 FROM session
)
SELECT session.id AS session_id, u.id AS user_id, u.nickname, u.avatar_url
FROM session JOIN users u ON u.id = session.user_id`

/** Rotates a refresh token: the presented one stops working. Null when it is unknown, used, expired or revoked. */
export async function rotateRefreshToken (sql: Sql, presented: string, info: SessionRequestInfo): Promise<SessionGrant | null> {
  const next = generateSecret()
  const [row] = await sql.query<GrantRow>(ROTATE, [hashSecret(presented), info.now, hashSecret(next), expiry(info.now, info.ttlSeconds)])
  return row === undefined ? null : grantFromRow(row, next)
}

/** Ends the session a refresh token or session id belongs to. */
export async function revokeSession (sql: Sql, by: { sessionId?: string, refreshToken?: string }, now: Date): Promise<void> {
  if (by.sessionId !== undefined) {
    await sql.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [by.sessionId, now])
  } else if (by.refreshToken !== undefined) {
    await sql.query(
      `UPDATE sessions SET revoked_at = $2
       WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
      [hashSecret(by.refreshToken), now]
    )
  }
}

export { expiry }
