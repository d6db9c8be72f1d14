import type { KakaoConfig, ProfileField } from '../config.js'
import { LoginErrorCode, LoginFlowError, type LoginErrorCodeValue } from '../errors.js'
import { createIdTokenVerifier, type IdTokenClaims, type IdTokenVerifier } from './id-token.js'
import { kakaoAccountCalls } from './kakao-account.js'
import { kakaoSdkLogin } from './kakao-native.js'
import { fetchProviderJson, optionalString, postTokenForm, type NormalizedProfile, type ProfileContext, type Provider, type TokenResponse } from './provider.js'

// Kakao Login REST API (developers.kakao.com/docs/latest/ko/kakaologin/rest-api). Paths are Kakao's;
// only the hosts are configurable.
const AUTHORIZE_PATH = '/oauth/authorize'
const TOKEN_PATH = '/oauth/token'
const USER_PATH = '/v2/user/me'
const JWKS_PATH = '/.well-known/jwks.json'

// account_email is a consent item only Biz apps can enable; asking for it from any other app fails
// every login with KOE205. Operators add it through KAKAO_SCOPES or KAKAO_REQUIRED_FIELDS.
const DEFAULT_KAKAO_SCOPES = ['profile_nickname', 'profile_image']

/** The consent item that brings each field an app may require (KAKAO_REQUIRED_FIELDS). */
const CONSENT_ITEMS: Record<ProfileField, string> = { email: 'account_email', name: 'name', nickname: 'profile_nickname', avatar: 'profile_image' }

/** A KOE code is safe to hand the frontend as `provider_code` (it names what to fix in Kakao's console). */
const koeCode = (value: unknown): string | undefined => typeof value === 'string' && /^KOE\d{3}$/.test(value) ? value : undefined

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
  const koe = koeCode(reply.error_code)
  const code: LoginErrorCodeValue = koe !== undefined && MISCONFIGURED.has(koe) ? LoginErrorCode.providerMisconfigured : LoginErrorCode.providerTokenError
  return new LoginFlowError(code, `Kakao token endpoint answered ${status}: ${String(reply.error ?? 'no error field')}${koe === undefined ? '' : ` (${koe})`}`, { providerCode: koe })
}

export function createKakaoProvider (config: KakaoConfig): Provider {
  // A required field's consent item is asked for from the first round: a login cannot be required to
  // bring what it never asked for. OpenID Connect mode adds `openid`, which makes Kakao add an
  // id_token to the token reply (once the app enabled OIDC in Kakao's console).
  const scopes = [...new Set([...DEFAULT_KAKAO_SCOPES, ...config.extraScopes, ...config.requiredFields.map(field => CONSENT_ITEMS[field]), ...(config.oidc ? ['openid'] : [])])]
  const consentHint = `requested consent items: ${scopes.join(',')}; enable each under Kakao Login > Consent items (account_email and name need a Biz app) or remove it from KAKAO_SCOPES / KAKAO_REQUIRED_FIELDS`

  // OpenID Connect mode (KAKAO_OIDC): Kakao's id_token, signed with the keys of its JWKS. The issuer
  // is KAKAO_AUTH_URL itself: https://kauth.kakao.com by default, a test double's origin in tests.
  let idTokens: IdTokenVerifier | undefined
  async function verifyIdToken ({ tokenReply, nonce, timeoutMs }: ProfileContext): Promise<IdTokenClaims> {
    idTokens ??= createIdTokenVerifier({ displayName: 'Kakao', jwksUri: config.authUrl + JWKS_PATH, issuers: [config.authUrl], audiences: [config.clientId], algorithms: ['RS256'], timeoutMs })
    return idTokens.verify(String(tokenReply.id_token), { nonce })
  }

  const provider: Provider = {
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
      clientAuth: 'body',
      // The nonce goes into the id_token, which must carry this login's (OIDC mode only).
      nonce: config.oidc
    },
    requiredFields: config.requiredFields,

    loginParams ({ promptLogin, consentRepair }): Record<string, string> {
      // Additional consent: authorize again with only the missing items. Kakao issues an id_token
      // for it only when `openid` is among them.
      if (consentRepair !== undefined && consentRepair.length > 0) {
        return { scope: [...new Set([...consentRepair.map(field => CONSENT_ITEMS[field]), ...(config.oidc ? ['openid'] : [])])].join(',') }
      }
      // Log in again even with a Kakao session (not in KakaoTalk's in-app browser, Kakao says).
      return promptLogin === true ? { prompt: 'login' } : {}
    },
    ...kakaoAccountCalls(config),

    callbackError (query) {
      const description = String(query.error_description ?? '')
      // KOE205 is usually shown on Kakao's own page; if it does come back to us, say which items.
      if (query.error === 'invalid_scope' || /KOE205/.test(description) || query.error_code === 'KOE205') {
        return new LoginFlowError(LoginErrorCode.providerScopeNotEnabled, `Kakao KOE205: a consent item is not enabled for this app (${consentHint})`, { providerCode: 'KOE205' })
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
      // Kakao adds the id_token once OpenID Connect is enabled for the app in its console.
      if (config.oidc && (typeof reply.id_token !== 'string' || reply.id_token === '')) {
        throw new LoginFlowError(LoginErrorCode.providerMisconfigured, 'Kakao token reply has no id_token: with KAKAO_OIDC=true, turn on [카카오 로그인] > [OpenID Connect 활성화] in Kakao\'s console')
      }
      return reply.access_token
    },

    async fetchProfile (accessToken, context) {
      return readProfile(accessToken, context.timeoutMs, config.oidc ? await verifyIdToken(context) : undefined)
    }
  }

  /** /v2/user/me as our profile, checked against the login's id_token in OpenID Connect mode. */
  async function readProfile (accessToken: string, timeoutMs: number, idClaims: IdTokenClaims | undefined): Promise<NormalizedProfile> {
    const { status, text } = await fetchProviderJson(config.apiUrl + USER_PATH, {
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      timeoutMs
    })
    const user = parseKakaoUser(text)
    if (status !== 200 || typeof user.id !== 'string' || !/^\d+$/.test(user.id)) {
      throw new LoginFlowError(LoginErrorCode.providerProfileError, `Kakao ${USER_PATH} answered ${status}`)
    }
    // The id_token's sub is the same user id as a string (/v2/user/me writes a number): the identity
    // stays (kakao, id) in both modes, so turning OIDC mode on or off orphans no account.
    if (idClaims !== undefined && idClaims.sub !== user.id) throw new LoginFlowError(LoginErrorCode.providerTokenError, `Kakao id_token sub does not match ${USER_PATH} id`)
    const account = user.kakao_account ?? {}
    // Kakao puts an email into the id_token only when the address is valid and verified.
    const idEmail = optionalString(idClaims?.email)
    const email = idEmail ?? optionalString(account.email)
    // Kakao's placeholder picture is no picture, unless the app requires one (KAKAO_REQUIRED_FIELDS=avatar):
    // then the placeholder beats turning away everyone who never set a picture.
    const isPlaceholder = account.profile?.is_default_image === true && !config.requiredFields.includes('avatar')
    const image = isPlaceholder ? undefined : optionalString(account.profile?.profile_image_url) ?? optionalString(user.properties?.profile_image)
    return {
      provider: 'kakao',
      providerUserId: user.id,
      nickname: optionalString(account.profile?.nickname) ?? optionalString(user.properties?.nickname),
      name: optionalString(account.name),
      email,
      // Kakao vouches for an address only when it is both valid and verified.
      emailVerified: idEmail !== undefined || (email !== undefined && account.is_email_valid === true && account.is_email_verified === true),
      avatarUrl: image
    }
  }
  // Kakao's own SDKs in native apps (kakao-native.ts): an SDK access token's profile is read like a
  // login's, without an id_token to hold it against (the SDK's comes on its own, as the other kind).
  const sdkLogin = kakaoSdkLogin(config, (accessToken, context) => readProfile(accessToken, context.timeoutMs, undefined))
  provider.verifyNativeToken = async (token, context) => ({ profile: await sdkLogin(token, context) })
  return provider
}
