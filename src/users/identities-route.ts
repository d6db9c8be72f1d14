import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdentityNotFoundError, LastIdentityError } from '../errors.js'
import { accessCookieSecurity, ErrorRef } from '../schemas/common.js'
import { authenticateSession } from '../sessions/tokens.js'

/** DELETE /users/me/identities/:provider: unlink a provider, never the last way to sign in. */
export const identityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.delete('/me/identities/:provider', {
    preHandler: authenticateSession,
    schema: {
      tags: ['account'],
      summary: 'Unlink a provider from the account',
      description: 'The identities are listed by GET /users/me. 409 `last_identity`: the account would have no way left to sign in. 404 `identity_not_found`: no such provider on this account.',
      security: accessCookieSecurity,
      params: Type.Object({ provider: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null({ description: 'Unlinked' }), 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const userId = request.user.id
    await app.db.sql.transaction(async tx => {
      // The user row lock serializes two unlinks racing for the last two identities.
      await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
      const identities = await tx.query<{ provider: string }>('SELECT provider FROM identities WHERE user_id = $1', [userId])
      if (!identities.some(identity => identity.provider === request.params.provider)) throw new IdentityNotFoundError()
      if (identities.length <= 1) throw new LastIdentityError()
      await tx.query('DELETE FROM identities WHERE user_id = $1 AND provider = $2', [userId, request.params.provider])
    })
    return reply.code(204).send(null)
  })
}
