import type { FastifyRequest } from 'fastify'
import { NotAuthenticatedError, ReauthenticationRequiredError } from '../errors.js'
import { verifyAccessToken } from './guards.js'
import { findLiveSession } from './store.js'

// An access cookie lives ACCESS_TOKEN_TTL_SECONDS and a refresh renews it, so a stolen one (or an
// unattended browser) is a live session. That is enough to read and rename, not to hand the account
// over or erase it: linking the thief's own provider account, then unlinking the owner's, would lock
// the owner out for good. Those actions ask for a sign-in the person made themselves, recently.

/**
 * preHandler for deleting the account, starting a link and unlinking an identity: a live session
 * opened by a sign-in (POST /auth/exchange or /auth/signup) at most REAUTH_MAX_AGE_SECONDS ago; a
 * refresh keeps the session's age. 401 `not_authenticated` for a session signed out, revoked or
 * expired (checked in the database, so a revocation on another instance counts at once), else 403
 * `reauthentication_required`. Sets `request.user`.
 */
export async function requireRecentSignIn (request: FastifyRequest): Promise<void> {
  const user = verifyAccessToken(request)
  const { db, clock, config } = request.server.handoff
  const now = clock.now()
  const session = await findLiveSession(db.sql, { sessionId: user.sessionId, userId: user.id }, now)
  if (session === undefined) throw new NotAuthenticatedError()
  if (now.getTime() - session.createdAt.getTime() > config.reauthMaxAgeSeconds * 1000) throw new ReauthenticationRequiredError()
}
