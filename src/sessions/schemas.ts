import { Type } from 'typebox'
import { PublicUserRef } from '../schemas/common.js'

export const MeSchema = Type.Object({
  user: PublicUserRef
}, { additionalProperties: false })

export const RefreshedSchema = Type.Object({
  status: Type.Literal('refreshed'),
  user: PublicUserRef
}, { additionalProperties: false })

export const LogoutQuerySchema = Type.Object({
  all: Type.Optional(Type.Boolean({ description: 'Sign out every session of this user, on every device' }))
})

export const SessionListSchema = Type.Object({
  sessions: Type.Array(Type.Object({
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.String({ format: 'date-time', description: 'The last refresh' }),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'The session of this request' })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export const SessionParamsSchema = Type.Object({
  id: Type.String({ format: 'uuid' })
})

/**
 * Logout reads either cookie, or none (always 204); the CSRF header is added to each alternative by
 * plugins/openapi.ts.
 */
export const logoutSecurity: Array<Record<string, string[]>> = [{ refreshCookie: [] }, { accessCookie: [] }, {}]

/** The OpenAPI prose of the session routes; the route files keep their one-line summaries. */
export const SessionDescriptions = {
  me: 'Answers from the access cookie alone, without a database query. 401 `not_authenticated` when the cookie is absent, expired or forged (call POST /auth/refresh, then retry), or its session was revoked (logout, a revoked device, a deleted account: refused at once, on every instance).',
  refresh: 'Reads the refresh cookie (HttpOnly; over plain http sent only to /auth paths). The presented refresh token stops working; new cookies are set. A session ends SESSION_MAX_LIFETIME_SECONDS (90 days by default) after its sign-in however often it is refreshed: the new refresh cookie\'s Max-Age never reaches past that, and afterwards the answer is 401 `refresh_token_invalid` (sign in again). Within REFRESH_REUSE_GRACE_SECONDS of a rotation, the old token presented by the browser that opened the session (its HttpOnly device cookie: two tabs refreshing at once) still gets a new access cookie, without a new refresh cookie (a session opened before device cookies existed adopts the browser of its next refresh, which then gets a device cookie). A rotated token presented later, or by any other browser even within that window, revokes its whole session: 401 `refresh_token_reused`. 401 `refresh_token_invalid` when missing, expired or revoked. Both 401s clear the cookies.',
  logout: 'Revokes the session of the presented refresh cookie and that of the access cookie (when they differ, both) and clears both cookies; the session\'s access tokens are refused at once, on every instance. `all=true` needs a valid access cookie and revokes every session of the user. Always 204, signed in or not.',
  revoke: 'Its refresh token stops working at once, and its access token is refused at once by every route, on every instance. 404 `session_not_found` when the session is not yours or not active.'
}

/** GET /.well-known/jwks.json, which sets the max-age it states. */
export const jwksDescription = (maxAgeSeconds: number) =>
  `With JWT_ALGORITHM=ES256 or EdDSA another service can verify the access cookie without calling us: pick the key by the JWT's \`kid\` header, then check \`iss\` (our PUBLIC_URL), \`aud\` (\`handoff\`) and \`exp\`. The first key signs, the others still verify tokens signed before a rotation. Empty \`keys\` with HS256 (a shared secret cannot be published). Cacheable for ${maxAgeSeconds} s.`
