import type { FastifyReply } from 'fastify'
import type { PublicUser } from '../users/public-user.js'
import { accessClaims, type ClientKind } from './access-claims.js'

/** Signs the access JWT for a session, with the newest key (access-tokens.ts makes the signer once). */
export function signAccessToken (reply: FastifyReply, user: PublicUser, sessionId: string, client: ClientKind = 'browser'): string {
  return reply.server.handoff.accessTokens.sign(accessClaims(user, sessionId, client))
}
