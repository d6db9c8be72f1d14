import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Sql } from '../db/database.js'
import { runAfterHook, type HandoffHooks, type IdentityRef } from '../lifecycle-hooks.js'
import type { RevocationRecord, RevokedSessions } from '../sessions/revocations.js'
import { revokeIdentitySessions, revokeUserSessions } from '../sessions/store.js'
import { deletePendingLogins, deleteUserIn } from './delete-user.js'
import { recordIdentityUnlinked } from './identity-events.js'

// A provider told us (Kakao's or Naver's unlink webhook, Apple's notification) that a person
// disconnected our app from their account there. The identity goes, with the sessions it opened
// and its kept tokens; if it was the account's last way to sign in, ON_LAST_IDENTITY_UNLINKED
// decides: delete the account (as DELETE /users/me does), or keep it, signed out everywhere. The
// provider already forgot us, so no revocation of its grant is queued.

export interface ProviderUnlinkResult {
  /** `unknown`: no such identity (never signed up, or already unlinked: a replay); nothing changed. */
  status: 'unlinked' | 'unknown'
  userId?: string
  /** The identity was the account's last and ON_LAST_IDENTITY_UNLINKED=delete: the account is gone. */
  accountDeleted?: boolean
}

interface Unlinked { userId: string, identity: IdentityRef, accountDeleted: boolean, revoked: RevokedSessions | null }

/** Thrown inside the transaction to roll it back: the identity went while we waited for its account's lock. */
const GONE = Symbol('identity gone')

/**
 * The transaction. Its locks come in the order a login takes them, so a login racing it queues
 * instead of deadlocking: the identity's login codes and pending signups (an exchange or a signup
 * holds its own first), then the user row, then the identity. Of two notices for one identity at
 * once, the second waits on the user row, then finds the identity gone and changes nothing.
 */
async function unlinkInTransaction (tx: Pick<Sql, 'query'>, identity: { provider: string, providerUserId: string }, record: RevocationRecord, onLast: 'delete' | 'keep'): Promise<Unlinked | null> {
  const [found] = await tx.query<{ id: string, user_id: string }>(
    'SELECT id, user_id FROM identities WHERE provider = $1 AND provider_user_id = $2', [identity.provider, identity.providerUserId])
  if (found === undefined) return null
  const userId = found.user_id
  await deletePendingLogins(tx, { userId, identityId: found.id })
  const [user] = await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
  const [still] = await tx.query('SELECT id FROM identities WHERE id = $1 AND user_id = $2 FOR UPDATE', [found.id, userId])
  if (user === undefined || still === undefined) throw GONE
  const [{ count }] = await tx.query<{ count: number }>('SELECT count(*)::int AS count FROM identities WHERE user_id = $1', [userId])
  const ref = { id: found.id, provider: identity.provider, providerUserId: identity.providerUserId }
  if (count === 1 && onLast === 'delete') {
    const revoked = await deleteUserIn(tx, userId, record)
    return { userId, identity: ref, accountDeleted: true, revoked: revoked === null ? null : { ...revoked, reason: 'account_deleted' } }
  }
  // The last identity of a kept account: it can no longer sign in, so none of its sessions stays.
  const revoked = count === 1 ? await revokeUserSessions(tx, userId, record) : await revokeIdentitySessions(tx, found.id, record)
  // Its tokens go with it (provider_tokens cascades); its sessions' identity_id becomes null.
  await tx.query('DELETE FROM identities WHERE id = $1', [found.id])
  return { userId, identity: ref, accountDeleted: false, revoked }
}

/**
 * The provider says this person left our app: removes the identity, ends the sessions it opened
 * (every instance refuses their access tokens at once), and applies ON_LAST_IDENTITY_UNLINKED when
 * it was the account's last. Safe to call again for the same notice (`unknown` the second time) and
 * concurrently with logins. Fires onSessionRevoked, onIdentityUnlinked (`initiator: 'provider'`,
 * `reason`) and, for a deleted account, onUserDeleted.
 */
export async function unlinkIdentityByProvider (app: FastifyInstance, hooks: HandoffHooks, request: FastifyRequest, identity: { provider: string, providerUserId: string }, reason: string): Promise<ProviderUnlinkResult> {
  const { sql } = app.handoff.db
  const onLast = app.handoff.config.onLastIdentityUnlinked
  let unlinked: Unlinked | null = null
  try {
    await app.handoff.sessionRevocations.revoke(request, 'identity_unlinked', async record => {
      unlinked = await sql.transaction(tx => unlinkInTransaction(tx, identity, record, onLast))
      return unlinked?.revoked ?? null
    })
  } catch (error) {
    if (error !== GONE) throw error
  }
  const done = unlinked as Unlinked | null
  if (done === null) {
    request.log.info({ provider: identity.provider, reason }, 'provider unlink: no such identity (already unlinked, or never signed up); nothing changed')
    return { status: 'unknown' }
  }
  await recordIdentityUnlinked(hooks, { userId: done.userId, identity: done.identity, initiator: 'provider', reason, request })
  if (done.accountDeleted) {
    request.log.info({ userId: done.userId, provider: identity.provider }, 'provider unlink: the account\'s last identity; account deleted (ON_LAST_IDENTITY_UNLINKED=delete)')
    await runAfterHook(hooks.onUserDeleted, 'onUserDeleted', { userId: done.userId, request })
  }
  return { status: 'unlinked', userId: done.userId, accountDeleted: done.accountDeleted }
}
