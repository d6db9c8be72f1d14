import type { Static } from 'typebox'
import type { Config } from '../config.js'
import type { NativeTokensSchema } from './schemas.js'

// A native app's session travels in JSON, never in cookies: the access JWT (sent back as
// `Authorization: Bearer`) and the opaque refresh token (sent back in the body of POST /auth/refresh).

export type NativeTokens = Static<typeof NativeTokensSchema>

/** How long a session opened now keeps its refresh token: never past its absolute lifetime. */
export const newSessionSeconds = (config: Pick<Config, 'refreshTokenTtlSeconds' | 'sessionMaxLifetimeSeconds'>): number =>
  Math.min(config.refreshTokenTtlSeconds, config.sessionMaxLifetimeSeconds)

/** The `tokens` of an answer to a native app; no refresh token within the grace window (it holds the current one). */
export function nativeTokens (config: Pick<Config, 'accessTokenTtlSeconds'>, accessToken: string, refresh?: { token: string, expiresInSeconds: number }): NativeTokens {
  return {
    tokenType: 'Bearer',
    accessToken,
    expiresIn: config.accessTokenTtlSeconds,
    ...(refresh === undefined ? {} : { refreshToken: refresh.token, refreshTokenExpiresIn: refresh.expiresInSeconds })
  }
}
