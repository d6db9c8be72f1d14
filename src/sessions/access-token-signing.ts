import type { FastifyReply } from 'fastify'
import type { PublicUser } from '../users/public-user.js'
import { accessClaims } from './access-claims.js'

/**
 * Signs the access JWT for a session, with the newest key (access-tokens.ts registers the signer).
 * Through the instance's signer, made once: `reply.jwtSign` builds a new fast-jwt signer (and key
 * object) for every token, ~10 µs a request.
 */
export function signAccessToken (reply: FastifyReply, user: PublicUser, sessionId: string): string {
  return reply.server.jwt.sign(accessClaims(user, sessionId))
}
