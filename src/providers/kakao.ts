import type { KakaoConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, type LoginErrorCodeValue } from '../errors.js'
import { kakaoAccountCalls } from './kakao-account.js'
import { fetchProviderJson, optionalString, postTokenForm, type Provider, type TokenResponse } from './provider.js'

// Kakao Login REST API (developers.kakao.com/docs/latest/ko/kakaologin/rest-api). Paths are Kakao's;
// only the hosts are configurable.
const AUTHORIZE_PATH = '/oauth/authorize'
const TOKEN_PATH = '/oauth/token'
const USER_PATH = '/v2/user/me'

// account_email is a consent item only Biz apps can enable; asking for it from any other app fails
// every login with KOE205. Operators add it (or openid) through KAKAO_SCOPES.
const DEFAULT_KAKAO_SCOPES = ['profile_nickname', 'profile_image']

/** KOE codes from the token endpoint that mean our settings are wrong, not the person's login. */
const MISCONFIGURED = new Set(['KOE010', 'KOE101', 'KOE006', 'KOE303'])

interface KakaoUser {
  id?: unknown
  properties?: { nickname?: unknown, profile_image?: unknown }
  kakao_account?: {
    profile?: { nickname?: unknown, profile_image_url?: unknown, is_default_image?: unknown }
    name?: unknown
    email?: unknown
    is_email_valid?: unknown
    is_email_verified?: unknown
  }
}

/**
 * Parses /v2/user/me keeping `id` exact: Kakao ids are 64-bit integers and JSON.parse would round
 * one above 2^53. Every `"id": <integer>` member becomes a string before parsing (a key cannot
 * match inside a JSON string, where its quotes would be escaped).
 */
export function parseKakaoUser (text: string): KakaoUser {
  return JSON.parse(text.replace(/(?<!\\)("id"\s*:\s*)(-?\d+)(?=\s*[,}])/g, '$1"$2"')) as KakaoUser
}

function tokenError (status: number, body: unknown): LoginFlowError {
  const reply = (body ?? {}) as { error?: unknown, error_code?: unknown }
  const koe = typeof reply.error_code === 'string' ? reply.error_code : undefined
  const code: LoginErrorCodeValue = koe !== undefined && MISCONFIGURED.has(koe) ? LoginErrorCode.providerMisconfigured : LoginErrorCode.providerTokenError
  return new LoginFlowError(code, `Kakao token endpoint answered ${status}: ${String(reply.error ?? 'no error field')}${koe === undefined ? '' : ` (${koe})`}`)
}

export function createKakaoProvider (config: KakaoConfig): Provider {
  const scopes = [...new Set([...DEFAULT_KAKAO_SCOPES, ...config.extraScopes])]
  const consentHint = `requested consent items: ${scopes.join(',')}; enable each under Kakao Login > Consent items (account_email needs a Biz app) or remove it from KAKAO_SCOPES`

  return {
    id: 'kakao',
    displayName: 'Kakao',
    oauth2: {
      clientId: config.clientId,
      clientSecret: config.clientSecret ?? '',
      authorizeUrl: config.authUrl + AUTHORIZE_PATH,
      tokenUrl: config.authUrl + TOKEN_PATH,
      scope: scopes,
      // Kakao takes consent item keys comma-separated (and answers them space-separated).
      scopeSeparator: ',',
      // Not in Kakao's REST reference, but its discovery document lists S256 and its own SDKs send
      // it on every login (docs/providers.md, "Kakao PKCE"): binds the code to this browser's login.
      pkce: 'S256',
      clientAuth: 'body'
    },
    ...kakaoAccountCalls(config),

    callbackError (query) {
      const description = String(query.error_description ?? '')
      // KOE205 is usually shown on Kakao's own page; if it does come back to us, say which items.
      if (query.error === 'invalid_scope' || /KOE205/.test(description) || query.error_code === 'KOE205') {
        return new LoginFlowError(LoginErrorCode.providerScopeNotEnabled, `Kakao KOE205: a consent item is not enabled for this app (${consentHint})`)
      }
      return undefined
    },

    // Our own token call: simple-oauth2 always sends client_secret (empty when unset), while Kakao
    // wants it only from apps that enabled "Client Secret".
    async exchangeCode ({ code, redirectUri, codeVerifier }, { timeoutMs }) {
      // Every Kakao login starts with a PKCE challenge: without this browser's verifier the code is
      // not ours to redeem, whether or not Kakao would notice.
      if (codeVerifier === undefined || codeVerifier === '') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Kakao callback without the PKCE verifier of this login')
      const form: Record<string, string> = { grant_type: 'authorization_code', client_id: config.clientId, redirect_uri: redirectUri, code, code_verifier: codeVerifier }
      if (config.clientSecret !== undefined) form.client_secret = config.clientSecret
      const { status, body } = await postTokenForm(config.authUrl + TOKEN_PATH, form, timeoutMs)
      if (status !== 200) throw tokenError(status, body)
      return body as TokenResponse
    },

    readAccessToken (reply) {
      if (typeof reply.access_token !== 'string' || reply.access_token === '') {
        throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Kakao token reply has no access_token')
      }
      return reply.access_token
    },

    async fetchProfile (accessToken, { timeoutMs }) {
      const { status, text } = await fetchProviderJson(config.apiUrl + USER_PATH, {
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        timeoutMs
      })
      const user = parseKakaoUser(text)
      if (status !== 200 || typeof user.id !== 'string' || !/^\d+$/.test(user.id)) {
        throw new LoginFlowError(LoginErrorCode.providerProfileError, `Kakao ${USER_PATH} answered ${status}`)
      }
      const account = user.kakao_account ?? {}
      const email = optionalString(account.email)
      const image = account.profile?.is_default_image === true ? undefined : optionalString(account.profile?.profile_image_url) ?? optionalString(user.properties?.profile_image)
      return {
        provider: 'kakao',
        providerUserId: user.id,
        nickname: optionalString(account.profile?.nickname) ?? optionalString(user.properties?.nickname),
        name: optionalString(account.name),
        email,
        // Kakao vouches for an address only when it is both valid and verified.
        emailVerified: email !== undefined && account.is_email_valid === true && account.is_email_verified === true,
        avatarUrl: image
      }
    }
  }
}
