import type { createRemoteJWKSet, JWTPayload } from 'jose'
import type { AppleConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import { clientSecretSource } from './apple-client-secret.js'
import { parseAppleUser } from './apple-user.js'
import { optionalString, postTokenForm, type Provider, type ProviderCallContext, type TokenResponse } from './provider.js'

// Sign in with Apple, REST (developer.apple.com/documentation/signinwithapplerestapi; docs/providers.md).
// The web flow: authorize with response_mode=form_post, so Apple's page POSTs the callback from its own
// site (src/auth/form-post-relay.ts brings it back same-site); the code exchanged with a client secret
// we sign (apple-client-secret.ts); the identity from the id_token, verified against Apple's JWKS.
// Paths are Apple's; only the host is configurable (APPLE_AUTH_URL), and it is also the issuer.
const AUTHORIZE_PATH = '/auth/authorize'
const TOKEN_PATH = '/auth/token'
const REVOKE_PATH = '/auth/revoke'
const KEYS_PATH = '/auth/keys'

/** The domain of Apple's "Hide My Email" addresses. */
export const APPLE_RELAY_DOMAIN = 'privaterelay.appleid.com'

/** Apple writes its booleans as JSON booleans or as the strings "true" / "false" (docs/providers.md, quirk 9). */
export const appleBoolean = (value: unknown): boolean => value === true || value === 'true'

/** The id_token claims handoff reads (developer.apple.com/documentation/signinwithapplerestapi/authenticating-users-with-sign-in-with-apple). */
export interface AppleIdClaims extends JWTPayload {
  sub: string
  email?: unknown
  email_verified?: unknown
  is_private_email?: unknown
  nonce?: unknown
}

export type AppleJwtVerifier = (token: string, audiences: string[]) => Promise<JWTPayload & { sub?: string }>

/**
 * Verifies a JWT Apple signed (id_tokens, server-to-server notifications): RS256 with a key of
 * Apple's JWKS (cached by jose, fetched again for an unknown `kid`), issued by APPLE_AUTH_URL, for one
 * of `audiences`, not expired. Throws jose's errors (`code` ERR_JWKS_TIMEOUT, ERR_JWT_EXPIRED…).
 */
export function appleJwtVerifier (config: Pick<AppleConfig, 'authUrl'>, timeoutMs: number): AppleJwtVerifier {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined
  return async (token, audiences) => {
    // Imported here: only a server with Apple enabled pays for loading jose.
    const { createRemoteJWKSet, jwtVerify } = await import('jose')
    jwks ??= createRemoteJWKSet(new URL(config.authUrl + KEYS_PATH), { timeoutDuration: timeoutMs, cooldownDuration: 1000 })
    const { payload } = await jwtVerify(token, jwks, { issuer: config.authUrl, audience: audiences, algorithms: ['RS256'], requiredClaims: ['sub', 'iat', 'exp'] })
    return payload
  }
}

/**
 * Checks an id_token for one of `audiences` (the Services ID on the web; a bundle id from an app) whose
 * `nonce` is one of `nonces`. Failures are LoginFlowErrors: provider_timeout when the JWKS does not
 * answer, provider_token_error for anything forged, expired or meant for someone else.
 */
export async function verifyAppleIdToken (verify: AppleJwtVerifier, idToken: string, { audiences, nonces }: { audiences: string[], nonces: string[] }): Promise<AppleIdClaims> {
  let claims: JWTPayload
  try {
    claims = await verify(idToken, audiences)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_JWKS_TIMEOUT') throw new LoginFlowError(LoginErrorCode.providerTimeout, 'Apple JWKS did not answer in time', { cause: error })
    throw new LoginFlowError(LoginErrorCode.providerTokenError, `Apple id_token rejected: ${code ?? (error as Error).message}`, { cause: error })
  }
  if (typeof claims.nonce !== 'string' || !nonces.includes(claims.nonce)) throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Apple id_token nonce does not match this login')
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Apple id_token has no sub')
  return claims as AppleIdClaims
}

/** Apple's token errors: `invalid_client` means our client secret, Services ID or key is wrong. */
function tokenError (status: number, body: unknown, call: string): LoginFlowError {
  const error = optionalString((body as { error?: unknown } | null)?.error)
  const code = error === 'invalid_client' || error === 'unauthorized_client' ? LoginErrorCode.providerMisconfigured : LoginErrorCode.providerTokenError
  return new LoginFlowError(code, `Apple ${call} answered ${status}${error === undefined ? '' : `: ${error}`}`)
}

/** Sign in with Apple as a provider. `now` (milliseconds) is for tests of the client secret's renewal. */
export function createAppleProvider (config: AppleConfig, { timeoutMs }: ProviderCallContext, now?: () => number): Provider {
  const clientSecret = clientSecretSource({ teamId: config.teamId, keyId: config.keyId, clientId: config.clientId, privateKey: config.privateKey }, now)
  const verify = appleJwtVerifier(config, timeoutMs)

  async function tokenCall (form: Record<string, string>, timeoutMs: number): Promise<TokenResponse> {
    const { status, body } = await postTokenForm(config.authUrl + TOKEN_PATH, { ...form, client_id: config.clientId, client_secret: await clientSecret.get() }, timeoutMs)
    if (status !== 200 || typeof body !== 'object' || body === null) throw tokenError(status, body, form.grant_type === 'refresh_token' ? 'token refresh' : 'token exchange')
    return body as TokenResponse
  }

  return {
    id: 'apple',
    displayName: 'Apple',
    oauth2: {
      clientId: config.clientId,
      // Signed per call in tokenCall: @fastify/oauth2 only builds the authorize URL for Apple.
      clientSecret: '',
      authorizeUrl: config.authUrl + AUTHORIZE_PATH,
      tokenUrl: config.authUrl + TOKEN_PATH,
      scope: ['name', 'email'],
      // Apple lists no PKCE parameter; the state cookie and the nonce bind the code to this login.
      clientAuth: 'body',
      nonce: true,
      responseMode: 'form_post'
    },

    callbackError (params) {
      // Apple's only documented error: the person pressed Cancel.
      if (params.error === 'user_cancelled_authorize') return new LoginFlowError(LoginErrorCode.accessDenied, 'Apple: the person cancelled the authorization')
      return undefined
    },

    exchangeCode ({ code, redirectUri }, { timeoutMs }) {
      return tokenCall({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }, timeoutMs)
    },

    readAccessToken (reply) {
      if (typeof reply.access_token !== 'string' || reply.access_token === '') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Apple token reply has no access_token')
      if (typeof reply.id_token !== 'string') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Apple token reply has no id_token')
      return reply.access_token
    },

    async fetchProfile (_accessToken, { tokenReply, nonce, callbackParams }) {
      // The id_token from our own token call, never the one in the form: that one came through the browser.
      const claims = await verifyAppleIdToken(verify, String(tokenReply.id_token), { audiences: [config.clientId], nonces: [nonce] })
      const email = optionalString(claims.email)
      const relay = appleBoolean(claims.is_private_email) || email?.toLowerCase().endsWith(`@${APPLE_RELAY_DOMAIN}`) === true
      const user = parseAppleUser(callbackParams?.user)
      return {
        provider: 'apple',
        providerUserId: claims.sub,
        nickname: user.nickname,
        name: user.name,
        email,
        // A relay address is Apple's own and reaches this person: verified for them, linkable to no one.
        emailVerified: email !== undefined && (appleBoolean(claims.email_verified) || relay),
        ...(relay ? { emailLinkable: false } : {})
      }
    },

    refreshTokens (refreshToken, { timeoutMs }) {
      return tokenCall({ grant_type: 'refresh_token', refresh_token: refreshToken }, timeoutMs)
    },

    // TN3194: an app that deletes an account revokes its Apple tokens. Apple answers 200 for an
    // already invalid token too, so a 200 proves only that the call was made.
    async revokeGrant ({ tokens }, { timeoutMs }) {
      const [token, hint] = tokens?.refreshToken !== undefined ? [tokens.refreshToken, 'refresh_token'] : [tokens?.accessToken, 'access_token']
      if (token === undefined || token === '') return
      const response = await fetch(config.authUrl + REVOKE_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams({ client_id: config.clientId, client_secret: await clientSecret.get(), token, token_type_hint: hint }).toString(),
        signal: AbortSignal.timeout(timeoutMs)
      })
      if (response.status === 200) return
      const text = await response.text()
      let error: string | undefined
      try { error = optionalString((JSON.parse(text) as { error?: unknown }).error) } catch {}
      throw new Error(`Apple ${REVOKE_PATH} answered ${response.status}${error === undefined ? '' : `: ${error}`}`)
    }
  }
}
