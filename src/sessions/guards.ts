import type { FastifyRequest } from 'fastify'
import { NotAuthenticatedError } from '../errors.js'
import type { AuthUser } from './access-claims.js'
import { findLiveSession } from './store.js'

// The preHandlers a route uses to require a signed-in user; requireRecentSignIn (recent-sign-in.ts)
// asks for more.

/** Reads and verifies the access cookie, setting `request.user`; throws 401 `not_authenticated`. */
export function verifyAccessToken (request: FastifyRequest): AuthUser {
  const user = request.server.handoff.accessTokens.verify(request)
  request.user = user
  return user
}

/** A preHandler for routes that need a signed-in user (from the token and the revoked sessions in memory, no query). */
export async function authenticate (request: FastifyRequest): Promise<void> {
  verifyAccessToken(request)
}

/**
 * A preHandler that also asks the database whether the session is alive (one indexed lookup): for
 * routes that must see a revocation committed by another instance this very moment, before that
 * instance's broadcast arrives, or a session past its expiry.
 */
export async function authenticateSession (request: FastifyRequest): Promise<void> {
  const user = verifyAccessToken(request)
  const { db, clock } = request.server.handoff
  if (await findLiveSession(db.sql, { sessionId: user.sessionId, userId: user.id }, clock.now()) === undefined) throw new NotAuthenticatedError()
}
