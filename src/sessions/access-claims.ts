import { NotAuthenticatedError } from '../errors.js'
import type { PublicUser } from '../users/public-user.js'

// What our access JWT carries: what signing puts in, and what verification accepts back.

/**
 * Who holds a session's tokens. A browser keeps them in HttpOnly cookies, which it sends by itself
 * (hence the CSRF checks); a native app keeps them itself and sends the access token as
 * `Authorization: Bearer`. Each is accepted only through its own channel.
 */
export type ClientKind = 'browser' | 'native'

/** The claims of our access JWT, besides the registered ones (iat, exp, iss, aud). */
export interface AccessClaims {
  sub: string
  /** The session (refresh family) this token belongs to. */
  sid: string
  nickname: string
  picture?: string
  /** `native` for a native app's session; absent for a browser's (every token issued before native apps). */
  client?: 'native'
}

/** `request.user` once the access cookie is verified. */
export interface AuthUser {
  id: string
  nickname: string
  sessionId: string
  avatarUrl: string | null
  /** The session's kind of client: its access token came from the cookie (`browser`) or `Authorization: Bearer` (`native`). */
  client: ClientKind
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` and `authenticateSession` (guards.ts); undefined on a route without them. */
    user: AuthUser
  }
}

export const ACCESS_TOKEN_AUDIENCE = 'handoff'

export function accessClaims (user: PublicUser, sessionId: string, client: ClientKind = 'browser'): AccessClaims {
  const claims: AccessClaims = { sub: user.id, sid: sessionId, nickname: user.nickname }
  if (user.avatarUrl !== null) claims.picture = user.avatarUrl
  if (client === 'native') claims.client = 'native'
  return claims
}

// We only ever issue database UUIDs as sub and sid; anything else would reach a uuid column.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Claims of the wrong shape (only a leaked key could sign them) are refused, not answered with a 500. */
export function userFromClaims (claims: AccessClaims): AuthUser {
  const { sub, sid, nickname, picture, client } = claims
  if (typeof sub !== 'string' || !UUID.test(sub) || typeof sid !== 'string' || !UUID.test(sid) ||
    typeof nickname !== 'string' || (picture !== undefined && typeof picture !== 'string') || (client !== undefined && client !== 'native')) {
    throw new NotAuthenticatedError()
  }
  return { id: sub, nickname, sessionId: sid, avatarUrl: picture ?? null, client: client ?? 'browser' }
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
