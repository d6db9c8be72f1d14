import type { Sql } from '../db/database.js'
import { lockUserRefreshTokens, revokeUserSessions } from '../sessions/store.js'
import type { RevocationRecord, RevokedSessions } from '../sessions/revocations.js'

/**
 * Deletes an account. Identities, sessions, refresh tokens and its login codes go with it (ON DELETE
 * CASCADE); the first-login rows that carried its identities' profiles (before the user existed)
 * are removed too, so nothing personal is left behind. Its live sessions are revoked first: their
 * revocations outlive the cascade, so their access tokens stay refused. Returns those sessions.
 *
 * The user row is locked before the revocation, so no session can be opened between the two: an
 * exchange's or signup's new session checks its foreign key against that row and waits, then fails.
 * The locks are taken in the order those statements take theirs (an exchange holds its login code,
 * then checks the user; a signup its pending signup; a rotation its refresh token, then its session),
 * so a concurrent login or refresh queues behind the deletion and finds its row gone instead of deadlocking.
 */
export async function deleteUser (sql: Sql, userId: string, record: RevocationRecord): Promise<RevokedSessions | null> {
  return sql.transaction(async tx => {
    const owned = 'EXISTS (SELECT 1 FROM identities i WHERE i.user_id = $1 AND i.provider = PROFILE->>\'provider\' AND i.provider_user_id = PROFILE->>\'providerUserId\')'
    await tx.query(`DELETE FROM login_codes WHERE user_id = $1 OR ${owned.replaceAll('PROFILE', 'pending_profile')}`, [userId])
    await tx.query(`DELETE FROM pending_signups WHERE ${owned.replaceAll('PROFILE', 'profile')}`, [userId])
    await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])
    await lockUserRefreshTokens(tx, userId)
    const revoked = await revokeUserSessions(tx, userId, record)
    await tx.query('DELETE FROM users WHERE id = $1', [userId])
    return revoked
  })
}
