import { NotAuthenticatedError } from '../errors.js'
import type { PublicUser } from '../users/public-user.js'

// What our access JWT carries: what signing puts in, and what verification accepts back.

/** The claims of our access JWT, besides the registered ones (iat, exp, iss, aud). */
export interface AccessClaims {
  sub: string
  /** The session (refresh family) this token belongs to. */
  sid: string
  nickname: string
  picture?: string
}

/** `request.user` once the access cookie is verified. */
export interface AuthUser {
  id: string
  nickname: string
  sessionId: string
  avatarUrl: string | null
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` and `authenticateSession` (guards.ts); undefined on a route without them. */
    user: AuthUser
  }
}

export const ACCESS_TOKEN_AUDIENCE = 'handoff'

export function accessClaims (user: PublicUser, sessionId: string): AccessClaims {
  const claims: AccessClaims = { sub: user.id, sid: sessionId, nickname: user.nickname }
  if (user.avatarUrl !== null) claims.picture = user.avatarUrl
  return claims
}

// We only ever issue database UUIDs as sub and sid; anything else would reach a uuid column.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Claims of the wrong shape (only a leaked key could sign them) are refused, not answered with a 500. */
export function userFromClaims (claims: AccessClaims): AuthUser {
  const { sub, sid, nickname, picture } = claims
  if (typeof sub !== 'string' || !UUID.test(sub) || typeof sid !== 'string' || !UUID.test(sid) ||
    typeof nickname !== 'string' || (picture !== undefined && typeof picture !== 'string')) {
    throw new NotAuthenticatedError()
  }
  return { id: sub, nickname, sessionId: sid, avatarUrl: picture ?? null }
}

// Clocks of instances differ a little; a token is never issued for longer than the TTL.
const LIFETIME_SKEW_SECONDS = 60

/**
 * A token we issued has `exp` = `iat` + ACCESS_TOKEN_TTL_SECONDS and an `iat` not in the future.
 * Only a leaked signing key makes anything else, e.g. a token for ten years: refused.
 */
export function issuedAsWeIssue ({ iat, exp }: { iat?: unknown, exp: number }, ttlSeconds: number): boolean {
  return typeof iat === 'number' && iat <= Date.now() / 1000 + LIFETIME_SKEW_SECONDS && exp - iat <= ttlSeconds + LIFETIME_SKEW_SECONDS
}
