import type { AppleConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, NativeTokenInvalidError, NativeTokenUnsupportedError } from '../errors.js'
import { clientSecretSources } from './apple-client-secret.js'
import { parseAppleUser } from './apple-user.js'
import { createIdTokenVerifier, type IdTokenClaims, type IdTokenVerifier } from './id-token.js'
import { nonceForms } from './native-sdk.js'
import { optionalString, postTokenForm, type NormalizedProfile, type Provider, type ProviderCallContext, type TokenResponse } from './provider.js'

// Sign in with Apple, REST (developer.apple.com/documentation/signinwithapplerestapi; docs/providers.md).
// The web flow: authorize with response_mode=form_post, so Apple's page POSTs the callback from its own
// site (src/auth/form-post-relay.ts brings it back same-site); the code exchanged with a client secret
// we sign (apple-client-secret.ts); the identity from the id_token, verified against Apple's JWKS.
// Paths are Apple's; only the host is configurable (APPLE_AUTH_URL), and it is also the issuer.
const AUTHORIZE_PATH = '/auth/authorize'
const TOKEN_PATH = '/auth/token'
const REVOKE_PATH = '/auth/revoke'
/** Apple's JWKS: the keys of its id_tokens and of its server-to-server notifications. */
export const APPLE_KEYS_PATH = '/auth/keys'

/** The domain of Apple's "Hide My Email" addresses. */
export const APPLE_RELAY_DOMAIN = 'privaterelay.appleid.com'

/** An address of Apple's private relay, by its domain (Apple's is_private_email flag may be missing). */
export const isAppleRelayAddress = (email: string | null | undefined): boolean => email?.trim().toLowerCase().endsWith(`@${APPLE_RELAY_DOMAIN}`) === true

/** Apple writes its booleans as JSON booleans or as the strings "true" / "false" (docs/providers.md, quirk 9). */
export const appleBoolean = (value: unknown): boolean => value === true || value === 'true'

/**
 * Apple's id_tokens for `audiences`: the Services ID for the web login, a bundle id (APPLE_APP_IDS)
 * for a native app's token. RS256 with a key of Apple's JWKS, issued by APPLE_AUTH_URL
 * (https://appleid.apple.com, or a fake's origin in tests), not expired; the nonce checked per call.
 * The same keys sign server-to-server notifications.
 */
export function appleIdTokenVerifier (config: Pick<AppleConfig, 'authUrl'>, audiences: readonly string[], timeoutMs: number): IdTokenVerifier {
  return createIdTokenVerifier({ displayName: 'Apple', jwksUri: config.authUrl + APPLE_KEYS_PATH, issuers: [config.authUrl], audiences, algorithms: ['RS256'], timeoutMs })
}

/**
 * The profile a verified Apple id_token (web or native) describes, with the name from the unsigned
 * `user` field of the first authorization when there is one. A relay address is Apple's own and
 * reaches this person: verified for them, linkable to no one.
 */
export function appleProfile (claims: IdTokenClaims, userField?: unknown): NormalizedProfile {
  const email = optionalString(claims.email)
  const relay = appleBoolean(claims.is_private_email) || isAppleRelayAddress(email)
  const user = parseAppleUser(userField)
  return {
    provider: 'apple',
    providerUserId: claims.sub,
    nickname: user.nickname,
    name: user.name,
    email,
    emailVerified: email !== undefined && (appleBoolean(claims.email_verified) || relay),
    ...(relay ? { emailLinkable: false } : {})
  }
}

/** Apple's token endpoint answered with an error; `appleError` is its `error` field, when it sent one. */
class AppleTokenError extends LoginFlowError {
  constructor (code: LoginFlowError['code'], message: string, readonly appleError: string | undefined) {
    super(code, message)
  }
}

/**
 * Apple's token errors: `invalid_client` means our client secret, Services ID or key is wrong; a 5xx
 * is Apple's own trouble (retry); any other refusal is about the code or token we sent.
 */
function tokenError (status: number, body: unknown, call: string): AppleTokenError {
  const error = optionalString((body as { error?: unknown } | null)?.error)
  const code = error === 'invalid_client' || error === 'unauthorized_client'
    ? LoginErrorCode.providerMisconfigured
    : status >= 500 ? LoginErrorCode.providerError : LoginErrorCode.providerTokenError
  return new AppleTokenError(code, `Apple ${call} answered ${status}${error === undefined ? '' : `: ${error}`}`, error)
}

/** Sign in with Apple as a provider. `now` (milliseconds) is for tests of the client secret's renewal. */
export function createAppleProvider (config: AppleConfig, { timeoutMs }: ProviderCallContext, now?: () => number): Provider {
  // One secret per client id: the Services ID (web), and each bundle id whose app sent a code.
  const clientSecrets = clientSecretSources({ teamId: config.teamId, keyId: config.keyId, privateKey: config.privateKey }, now)
  const idTokens = appleIdTokenVerifier(config, [config.clientId], timeoutMs)
  // A native app's identityToken names its bundle id as audience, never the Services ID.
  const nativeIdTokens = config.appIds.length === 0 ? undefined : appleIdTokenVerifier(config, config.appIds, timeoutMs)

  /** A token call as `clientId` (default the Services ID), with a client secret whose `sub` is that client id. */
  async function tokenCall (form: Record<string, string>, timeoutMs: number, clientId = config.clientId): Promise<TokenResponse> {
    const { status, body } = await postTokenForm(config.authUrl + TOKEN_PATH, { ...form, client_id: clientId, client_secret: await clientSecrets.get(clientId) }, timeoutMs)
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
      return appleProfile(await idTokens.verify(String(tokenReply.id_token), { nonce }), callbackParams?.user)
    },

    // POST /auth/apple/token: the identityToken of Sign in with Apple in an app (AuthenticationServices),
    // whose nonce claim is SHA-256(raw nonce) in hex, Apple's own convention (nonceForms takes both).
    // Apple sends the name to the app only, never in the token: the app passes it as the nickname.
    // With the credential's authorizationCode as well, the code is exchanged for the tokens that let
    // an account deletion revoke at Apple (TN3194); without it nothing can be kept.
    nativeAuthorizationCode: true,
    async verifyNativeToken (token, { timeoutMs }) {
      if (!('idToken' in token)) throw new NativeTokenUnsupportedError('Apple: send the identityToken as idToken, with the raw nonce, not an access token')
      if (nativeIdTokens === undefined) throw new NativeTokenUnsupportedError('Apple identityTokens from apps need APPLE_APP_IDS: the bundle ids of your apps')
      const claims = await nativeIdTokens.verify(token.idToken, { nonce: nonceForms(token.nonce) })
      const profile = appleProfile(claims)
      if (token.authorizationCode === undefined) return { profile }
      // The app's code was issued to its bundle id, the identityToken's audience (checked to be one of
      // APPLE_APP_IDS): Apple takes it only with that client id, a secret signed for it, and no
      // redirect_uri (the app sent none to authorize).
      const bundleId = Array.isArray(claims.aud) ? (claims.aud.length === 1 ? claims.aud[0] : undefined) : claims.aud
      if (typeof bundleId !== 'string' || !config.appIds.includes(bundleId)) throw new NativeTokenInvalidError('Apple identityToken must name exactly one of APPLE_APP_IDS as audience to exchange its authorizationCode')
      let reply: TokenResponse
      try {
        reply = await tokenCall({ grant_type: 'authorization_code', code: token.authorizationCode }, timeoutMs, bundleId)
      } catch (error) {
        // invalid_grant: the code was used, expired (5 minutes), or belongs to another app. The
        // identityToken alone would sign in, but the app asked for its tokens to be kept: it signs in again.
        if (error instanceof AppleTokenError && error.appleError === 'invalid_grant') {
          throw new NativeTokenInvalidError(`Apple refused the authorizationCode (${error.message}): it was used, expired, or issued to another app; sign in with Apple again`)
        }
        // Anything else that is not the app's code (no answer, an unreadable one, another refusal): Apple's
        // or our trouble, 502 (or 504), which the app may retry with the same code while it lives.
        if (error instanceof LoginFlowError && error.code === LoginErrorCode.providerTokenError) {
          throw new LoginFlowError(LoginErrorCode.providerError, error.message, { cause: error })
        }
        throw error
      }
      if (typeof reply.access_token !== 'string' || reply.access_token === '' || typeof reply.id_token !== 'string') {
        throw new LoginFlowError(LoginErrorCode.providerError, 'Apple token reply to the authorizationCode lacks access_token or id_token')
      }
      // Our own call's id_token, for the same bundle id: its person must be the identityToken's, or
      // the app sent one person's token with another's code. Its nonce is the app's business: the
      // identityToken's was checked.
      const codeClaims = await nativeIdTokens.verify(reply.id_token, { nonce: null })
      if (codeClaims.aud !== bundleId && !(Array.isArray(codeClaims.aud) && codeClaims.aud.includes(bundleId))) {
        throw new LoginFlowError(LoginErrorCode.providerError, 'Apple token reply to the authorizationCode names another audience')
      }
      if (codeClaims.sub !== claims.sub) throw new NativeTokenInvalidError('Apple authorizationCode belongs to another person than the identityToken: send the code and the identityToken of one sign-in')
      return { profile, tokens: { reply, clientId: bundleId } }
    },

    // Tokens from an app's code are its bundle id's (ProviderTokens.clientId); the web login's the Services ID's.
    refreshTokens (refreshToken, { timeoutMs, clientId }) {
      return tokenCall({ grant_type: 'refresh_token', refresh_token: refreshToken }, timeoutMs, clientId)
    },

    // TN3194: an app that deletes an account revokes its Apple tokens. Apple answers 200 for an
    // already invalid token too, so a 200 proves only that the call was made. Revoked as the client the
    // tokens were issued to: a bundle id for an app's code, or Apple would not revoke them.
    async revokeGrant ({ tokens }, { timeoutMs }) {
      const clientId = tokens?.clientId ?? config.clientId
      const [token, hint] = tokens?.refreshToken !== undefined ? [tokens.refreshToken, 'refresh_token'] : [tokens?.accessToken, 'access_token']
      if (token === undefined || token === '') return 'no_token'
      const response = await fetch(config.authUrl + REVOKE_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams({ client_id: clientId, client_secret: await clientSecrets.get(clientId), token, token_type_hint: hint }).toString(),
        signal: AbortSignal.timeout(timeoutMs)
      })
      if (response.status === 200) return 'revoked'
      const text = await response.text()
      let error: string | undefined
      try { error = optionalString((JSON.parse(text) as { error?: unknown }).error) } catch {}
      throw new Error(`Apple ${REVOKE_PATH} answered ${response.status}${error === undefined ? '' : `: ${error}`}`)
    }
  }
}
