import type { Sql } from '../db/database.js'
import type { GrantRevocationQueue } from '../providers/grant-revocations.js'
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
export async function deleteUser (sql: Sql, userId: string, record: RevocationRecord, revocations?: GrantRevocationQueue): Promise<RevokedSessions | null> {
  return sql.transaction(tx => deleteUserIn(tx, userId, record, revocations))
}

/**
 * deleteUser's statements, in the caller's transaction (a provider's unlink notice deletes the
 * account of the last identity it removes). `revocations` queues the revocation of each identity's
 * grant at its provider, so the jobs exist exactly when the deletion commits.
 */
export async function deleteUserIn (tx: Pick<Sql, 'query'>, userId: string, record: RevocationRecord, revocations?: GrantRevocationQueue): Promise<RevokedSessions | null> {
  await deletePendingLogins(tx, { userId })
  await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])
  await lockUserRefreshTokens(tx, userId)
  const revoked = await revokeUserSessions(tx, userId, record)
  await revocations?.queue(tx, { userId })
  await tx.query('DELETE FROM users WHERE id = $1', [userId])
  return revoked
}

/**
 * The login codes and pending signups of a user's identities (or of one identity), including the
 * first-login rows that carry their profiles: deleted before the user row is locked (see above).
 */
export async function deletePendingLogins (tx: Pick<Sql, 'query'>, { userId, identityId }: { userId: string, identityId?: string }): Promise<void> {
  const owned = 'EXISTS (SELECT 1 FROM identities i WHERE i.user_id = $1 AND ($2::uuid IS NULL OR i.id = $2) AND i.provider = PROFILE->>\'provider\' AND i.provider_user_id = PROFILE->>\'providerUserId\')'
  const codes = identityId === undefined ? 'user_id = $1' : 'identity_id = $2'
  await tx.query(`DELETE FROM login_codes WHERE ${codes} OR ${owned.replaceAll('PROFILE', 'pending_profile')}`, [userId, identityId ?? null])
  await tx.query(`DELETE FROM pending_signups WHERE ${owned.replaceAll('PROFILE', 'profile')}`, [userId, identityId ?? null])
}
