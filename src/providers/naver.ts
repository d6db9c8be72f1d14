import type { NaverConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import { createIdTokenVerifier, type IdTokenVerifier } from './id-token.js'
import { naverAccountCalls } from './naver-account.js'
import { fetchProviderJson, optionalString, postTokenForm, type ProfileContext, type Provider, type TokenResponse } from './provider.js'

// Naver Login (developers.naver.com/docs/login/api/api.md, /docs/login/profile/profile.md,
// /docs/login/devguide/devguide.md §3.5 for OpenID Connect). Paths are Naver's; only the hosts are
// configurable. No scope parameter on the legacy endpoints: consent items are chosen in the
// developer console. PKCE only on the OpenID Connect endpoints (NAVER_OIDC).
const AUTHORIZE_PATH = '/oauth2.0/authorize'
const TOKEN_PATH = '/oauth2.0/token'
const OIDC_AUTHORIZE_PATH = '/oauth2/authorize'
const OIDC_TOKEN_PATH = '/oauth2/token'
const JWKS_PATH = '/oauth2/jwks'
const PROFILE_PATH = '/v1/nid/me'

// `openid` is required; `profile` is what Naver's own Spring Boot example asks for, and the only
// other scope its discovery document lists. The profile items themselves are still the console's.
const OIDC_SCOPES = ['openid', 'profile']

interface NaverProfile { resultcode?: unknown, message?: unknown, response?: { id?: unknown, nickname?: unknown, name?: unknown, email?: unknown, profile_image?: unknown } }

/** Naver's token errors: `invalid_client` means our id or secret is wrong (legacy: HTTP 200; OIDC endpoints: a 4xx). */
function tokenError (status: number, body: unknown): LoginFlowError {
  const error = (body as { error?: unknown } | null)?.error
  const code = error === 'invalid_client' ? LoginErrorCode.providerMisconfigured : LoginErrorCode.providerTokenError
  return new LoginFlowError(code, `Naver token endpoint answered ${status}${typeof error === 'string' ? `: ${error}` : ''}`)
}

export function createNaverProvider (config: NaverConfig): Provider {
  const { oidc } = config

  // OpenID Connect mode: Naver's id_token, issuer NAVER_AUTH_URL itself (https://nid.naver.com by
  // default, a test double's origin in tests). Naver documents no `nonce` parameter, so none is sent
  // or checked: what binds the token to this browser's login is PKCE on our own code exchange (the
  // verifier lives in this browser's cookie) and the state.
  let idTokens: IdTokenVerifier | undefined
  async function verifyIdToken ({ tokenReply, timeoutMs }: ProfileContext): Promise<void> {
    idTokens ??= createIdTokenVerifier({ displayName: 'Naver', jwksUri: config.authUrl + JWKS_PATH, issuers: [config.authUrl], audiences: [config.clientId], algorithms: ['RS256'], timeoutMs })
    await idTokens.verify(String(tokenReply.id_token), { nonce: null })
  }

  return {
    id: 'naver',
    displayName: 'Naver',
    oauth2: {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      authorizeUrl: config.authUrl + (oidc ? OIDC_AUTHORIZE_PATH : AUTHORIZE_PATH),
      tokenUrl: config.authUrl + (oidc ? OIDC_TOKEN_PATH : TOKEN_PATH),
      scope: oidc ? OIDC_SCOPES : [],
      pkce: oidc ? 'S256' : undefined,
      clientAuth: 'body'
    },
    ...naverAccountCalls(config),
    requiredFields: config.requiredFields,

    loginParams ({ promptLogin, consentRepair }): Record<string, string> {
      // `reprompt` shows the consent screen again for items declined before (documented for the
      // legacy endpoint; sent on the OIDC one too, where a Naver that ignores it only means the
      // login ends as provider_consent_missing). `reauthenticate` asks for the password whatever
      // the Naver session (documented on both).
      if (consentRepair !== undefined && consentRepair.length > 0) return { auth_type: 'reprompt' }
      return promptLogin === true ? { auth_type: 'reauthenticate' } : {}
    },

    // Our own token call: Naver requires the login's `state` in it, which simple-oauth2 cannot add per
    // request. Sent as a form body (Naver documents query parameters and accepts both) so the code
    // and the secret stay out of any URL.
    async exchangeCode ({ code, state, redirectUri, codeVerifier }, { timeoutMs }) {
      const form: Record<string, string> = { grant_type: 'authorization_code', client_id: config.clientId, client_secret: config.clientSecret, code, state }
      if (oidc) {
        // Every OIDC-mode login starts with a PKCE challenge: without this browser's verifier the code is not ours to redeem.
        if (codeVerifier === undefined || codeVerifier === '') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Naver callback without the PKCE verifier of this login')
        // redirect_uri is not in Naver's table for /oauth2/token, but OAuth requires it when the
        // authorize request carried one (RFC 6749 §4.1.3), and Naver's own Spring example sends it.
        Object.assign(form, { code_verifier: codeVerifier, redirect_uri: redirectUri })
      }
      const { status, body } = await postTokenForm(config.authUrl + (oidc ? OIDC_TOKEN_PATH : TOKEN_PATH), form, timeoutMs)
      if (status !== 200) throw tokenError(status, body)
      return body as TokenResponse
    },

    readAccessToken (reply) {
      // Naver reports token errors with HTTP 200 and an `error` field.
      if (typeof reply.error === 'string') throw tokenError(200, reply)
      if (typeof reply.access_token !== 'string' || reply.access_token === '') {
        throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Naver token reply has no access_token')
      }
      if (oidc && (typeof reply.id_token !== 'string' || reply.id_token === '')) throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Naver token reply has no id_token')
      return reply.access_token
    },

    async fetchProfile (accessToken, context) {
      if (oidc) await verifyIdToken(context)
      const { status, body } = await fetchProviderJson(config.apiUrl + PROFILE_PATH, { headers: { authorization: `Bearer ${accessToken}` }, timeoutMs: context.timeoutMs })
      const envelope = (body ?? {}) as NaverProfile
      // The profile sits in an envelope; only resultcode "00" means success.
      const profile = envelope.response
      if (status !== 200 || envelope.resultcode !== '00' || typeof profile?.id !== 'string' || profile.id === '') {
        throw new LoginFlowError(LoginErrorCode.providerProfileError, `Naver ${PROFILE_PATH} answered ${status} with resultcode ${String(envelope.resultcode)}`)
      }
      return {
        provider: 'naver',
        // The identity is /v1/nid/me's `response.id` in both modes, never the id_token's `sub`.
        // Naver's docs do not say the two are equal: its discovery document names /v1/nid/me as the
        // userinfo endpoint, and its Spring Boot guide copies `id` into the userinfo `sub`, which
        // Spring then requires to equal the id_token's `sub`; that suggests they are, but nothing
        // states it. Keying on `response.id` keeps the accounts the legacy flow created: switching
        // NAVER_OIDC on or off orphans no one. Both come from our own code exchange, so they
        // describe the same person.
        providerUserId: profile.id,
        nickname: optionalString(profile.nickname),
        name: optionalString(profile.name),
        email: optionalString(profile.email),
        // Naver's email is the account's contact address, with no verified flag: never vouch for it.
        emailVerified: false,
        avatarUrl: optionalString(profile.profile_image)
      }
    }
  }
}
