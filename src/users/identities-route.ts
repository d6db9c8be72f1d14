import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdentityAmbiguousError, IdentityNotFoundError, LastIdentityError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { accessCookieSecurity } from '../schemas/common.js'
import { requireRecentSignIn } from '../sessions/recent-sign-in.js'
import { recordIdentityUnlinked } from './identity-events.js'
import { UnlinkIdentityResponses, UserDescriptions } from './schemas.js'

interface IdentityRow { id: string, provider: string, provider_user_id: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The one identity of the account a path names: by its id, or, for clients written before ids were
 * listed, by its provider while the account has exactly one identity of it. Matched in memory, so no
 * value of the path ever reaches a uuid column.
 */
function identityNamed (identities: IdentityRow[], key: string): IdentityRow {
  if (UUID.test(key)) {
    const identity = identities.find(candidate => candidate.id === key.toLowerCase())
    if (identity === undefined) throw new IdentityNotFoundError()
    return identity
  }
  const ofProvider = identities.filter(candidate => candidate.provider === key)
  if (ofProvider.length === 0) throw new IdentityNotFoundError()
  if (ofProvider.length > 1) throw new IdentityAmbiguousError(key)
  return ofProvider[0]
}

/** DELETE /users/me/identities/:id: unlink one identity, never the last way to sign in. */
export const identityRoutes: FastifyPluginAsyncTypebox<{ hooks: HandoffHooks }> = async (app, { hooks }) => {
  app.delete('/me/identities/:id', {
    // Unlinking the owner's identities is how a stolen session would lock the owner out.
    preHandler: requireRecentSignIn,
    schema: {
      operationId: 'unlinkIdentity',
      tags: ['account'],
      summary: 'Unlink one identity from the account',
      description: UserDescriptions.unlinkIdentity,
      security: accessCookieSecurity,
      params: Type.Object({ id: Type.String({ maxLength: 64, description: 'The identity\'s id (or, for compatibility, its provider)' }) }),
      response: UnlinkIdentityResponses
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const { id: userId, sessionId } = request.user
    const unlinked = await app.handoff.db.sql.transaction(async tx => {
      // The user row lock serializes two unlinks racing for the last two identities.
      await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
      const identities = await tx.query<IdentityRow>('SELECT id, provider, provider_user_id FROM identities WHERE user_id = $1', [userId])
      const identity = identityNamed(identities, request.params.id)
      if (identities.length <= 1) throw new LastIdentityError()
      await tx.query('DELETE FROM identities WHERE id = $1 AND user_id = $2', [identity.id, userId])
      return identity
    })
    await recordIdentityUnlinked(hooks, {
      userId,
      identity: { id: unlinked.id, provider: unlinked.provider, providerUserId: unlinked.provider_user_id },
      sessionId,
      request
    })
    return reply.code(204).send(null)
  })
}
