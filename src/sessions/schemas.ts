import { Type } from 'typebox'
import { PublicUserRef } from '../schemas/common.js'
import { SECRET_PATTERN } from '../secrets.js'

/** A native app's install secret: the refresh grace window is honoured for the app that holds it, as the device cookie does for a browser. */
export const DeviceSecretSchema = Type.String({
  pattern: SECRET_PATTERN,
  description: 'Native apps, optional: a random secret of this install (32 random bytes, base64url, 43 characters), kept with the tokens and sent with every refresh. A just-rotated refresh token presented again within REFRESH_REUSE_GRACE_SECONDS (two requests refreshing at once) is honoured only with the same one; without it, such a replay revokes the session.'
})

export const NativeTokensSchema = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String({ description: 'The access JWT: send it as `Authorization: Bearer <accessToken>`' }),
  expiresIn: Type.Integer({ description: 'Seconds the access token lives (ACCESS_TOKEN_TTL_SECONDS)' }),
  refreshToken: Type.Optional(Type.String({ description: 'The refresh token (opaque): keep it in the platform\'s secure storage, send it to POST /auth/refresh. Absent from a refresh answered within the grace window: keep the one you have.' })),
  refreshTokenExpiresIn: Type.Optional(Type.Integer({ description: 'Seconds until the refresh token (and, at most, the session) expires' }))
}, { additionalProperties: false, description: 'Native apps only; a browser gets cookies instead.' })

export const MeSchema = Type.Object({
  user: PublicUserRef
}, { additionalProperties: false })

export const RefreshedSchema = Type.Object({
  status: Type.Literal('refreshed'),
  user: PublicUserRef,
  tokens: Type.Optional(NativeTokensSchema)
}, { additionalProperties: false })

// A native app's refresh token is sent here, never as a cookie; a browser's only as its cookie.
const NativeRefreshTokenSchema = Type.String({ minLength: 1, maxLength: 256, description: 'Native apps only: the refresh token from the exchange (or the last refresh)' })

// The browser's body comes first among the examples: Swagger UI's "Try it out" sends the first one,
// and a made-up refreshToken would make the call a native app's, refused (401), cookie unread.
export const RefreshBodySchema = Type.Object({
  refreshToken: Type.Optional(NativeRefreshTokenSchema),
  deviceSecret: Type.Optional(DeviceSecretSchema)
}, {
  additionalProperties: false,
  description: 'Native apps only; a browser sends no body, or `{}` (its refresh cookie is read).',
  examples: [{}, { refreshToken: '<the refresh token from the exchange>', deviceSecret: '<this install\'s device secret>' }]
})

export const LogoutBodySchema = Type.Object({
  refreshToken: Type.Optional(NativeRefreshTokenSchema)
}, {
  additionalProperties: false,
  description: 'Optional, native apps only: ends the refresh token\'s session (besides the bearer token\'s).',
  examples: [{}, { refreshToken: '<the refresh token from the exchange>' }]
})

export const LogoutQuerySchema = Type.Object({
  all: Type.Optional(Type.Boolean({ description: 'Sign out every session of this user, on every device' })),
  withProvider: Type.Optional(Type.Boolean({ description: 'Answer 200 with the provider\'s own logout page for the ended session (Kakao\'s "logout with the Kakao account"), instead of 204' }))
})

export const ProviderLogoutSchema = Type.Object({
  providerLogoutUrl: Type.Union([Type.String({ format: 'uri' }), Type.Null()], {
    description: 'Kakao\'s account logout page (카카오계정과 함께 로그아웃) when the ended session was opened through Kakao and KAKAO_LOGOUT_REDIRECT_URI is set; navigate there to end the Kakao session too (shared computers). Else null'
  })
}, { additionalProperties: false })

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
 * Logout reads either cookie, a native app's bearer token, or none (always 204); the CSRF header is
 * added to each cookie alternative by plugins/openapi.ts.
 */
export const logoutSecurity: Array<Record<string, string[]>> = [{ refreshCookie: [] }, { accessCookie: [] }, { bearerToken: [] }, {}]

/** The OpenAPI prose of the session routes; the route files keep their one-line summaries. */
export const SessionDescriptions = {
  me: 'Answers from the access cookie (a native app: its `Authorization: Bearer` token) alone, without a database query. 401 `not_authenticated` when the cookie is absent, expired or forged (call POST /auth/refresh, then retry), or its session was revoked (logout, a revoked device, a deleted account: refused at once, on every instance).',
  refresh: 'Reads the refresh cookie (HttpOnly; over plain http sent only to /auth paths). The presented refresh token stops working; new cookies are set. A session ends SESSION_MAX_LIFETIME_SECONDS (90 days by default) after its sign-in however often it is refreshed: the new refresh cookie\'s Max-Age never reaches past that, and afterwards the answer is 401 `refresh_token_invalid` (sign in again). Within REFRESH_REUSE_GRACE_SECONDS of a rotation, the old token presented by the browser that opened the session (its HttpOnly device cookie: two tabs refreshing at once) still gets a new access cookie, without a new refresh cookie (a session opened before device cookies existed adopts the browser of its next refresh, which then gets a device cookie). A rotated token presented later, or by any other browser even within that window, revokes its whole session: 401 `refresh_token_reused`. 401 `refresh_token_invalid` when missing, expired or revoked. Both 401s clear the cookies. ' +
    'A native app sends `{ refreshToken, deviceSecret? }` in the body instead and gets `tokens` back (no cookie): the same rotation, reuse detection and absolute lifetime, and the grace window only with the `deviceSecret` its session was opened (or first refreshed) with; within it `tokens` has no `refreshToken` (keep yours). A native refresh token presented as a cookie, or a browser\'s in the body, is `refresh_token_invalid` and changes nothing.',
  logout: 'Revokes the session of the presented refresh cookie and that of the access cookie (when they differ, both) and clears both cookies; the session\'s access tokens are refused at once, on every instance. `all=true` needs a valid access cookie and revokes every session of the user. 204, signed in or not; with `withProvider=true`, 200 `{ providerLogoutUrl }` instead (null unless the ended session, the access cookie\'s or else the refresh cookie\'s, was opened through Kakao and KAKAO_LOGOUT_REDIRECT_URI is set). A native app sends its bearer token (and may send `{ refreshToken }`): the same, without cookies.',
  revoke: 'Its refresh token stops working at once, and its access token is refused at once by every route, on every instance. 404 `session_not_found` when the session is not yours or not active.'
}

/** GET /.well-known/jwks.json, which sets the max-age it states. */
export const jwksDescription = (maxAgeSeconds: number) =>
  `With JWT_ALGORITHM=ES256 or EdDSA another service can verify the access cookie without calling us: pick the key by the JWT's \`kid\` header, then check \`iss\` (our PUBLIC_URL), \`aud\` (\`handoff\`) and \`exp\`. The first key signs, the others still verify tokens signed before a rotation. Empty \`keys\` with HS256 (a shared secret cannot be published). Cacheable for ${maxAgeSeconds} s.`
