import type { NaverConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import { naverAccountCalls } from './naver-account.js'
import { fetchProviderJson, optionalString, postTokenForm, type Provider, type TokenResponse } from './provider.js'

// Naver Login (developers.naver.com/docs/login/api/api.md, /docs/login/profile/profile.md). Paths
// are Naver's; only the hosts are configurable. No scope parameter: consent items are chosen in the
// developer console. No PKCE.
const AUTHORIZE_PATH = '/oauth2.0/authorize'
const TOKEN_PATH = '/oauth2.0/token'
const PROFILE_PATH = '/v1/nid/me'

interface NaverProfile { resultcode?: unknown, message?: unknown, response?: { id?: unknown, nickname?: unknown, name?: unknown, email?: unknown, profile_image?: unknown } }

export function createNaverProvider (config: NaverConfig): Provider {
  return {
    id: 'naver',
    displayName: 'Naver',
    oauth2: {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      authorizeUrl: config.authUrl + AUTHORIZE_PATH,
      tokenUrl: config.authUrl + TOKEN_PATH,
      scope: [],
      clientAuth: 'body'
    },
    ...naverAccountCalls(config),

    // Our own token call: Naver requires the login's `state` in it, which simple-oauth2 cannot add per
    // request. Sent as a form body (Naver documents query parameters and accepts both) so the code
    // and the secret stay out of any URL.
    async exchangeCode ({ code, state }, { timeoutMs }) {
      const form = { grant_type: 'authorization_code', client_id: config.clientId, client_secret: config.clientSecret, code, state }
      const { status, body } = await postTokenForm(config.authUrl + TOKEN_PATH, form, timeoutMs)
      if (status !== 200) throw new LoginFlowError(LoginErrorCode.providerTokenError, `Naver token endpoint answered ${status}`)
      return body as TokenResponse
    },

    readAccessToken (reply) {
      // Naver reports token errors with HTTP 200 and an `error` field.
      if (typeof reply.error === 'string') {
        throw new LoginFlowError(reply.error === 'invalid_client' ? LoginErrorCode.providerMisconfigured : LoginErrorCode.providerTokenError, `Naver token error: ${reply.error}`)
      }
      if (typeof reply.access_token !== 'string' || reply.access_token === '') {
        throw new LoginFlowError(LoginErrorCode.providerTokenError, 'Naver token reply has no access_token')
      }
      return reply.access_token
    },

    async fetchProfile (accessToken, { timeoutMs }) {
      const { status, body } = await fetchProviderJson(config.apiUrl + PROFILE_PATH, { headers: { authorization: `Bearer ${accessToken}` }, timeoutMs })
      const envelope = (body ?? {}) as NaverProfile
      // The profile sits in an envelope; only resultcode "00" means success.
      const profile = envelope.response
      if (status !== 200 || envelope.resultcode !== '00' || typeof profile?.id !== 'string' || profile.id === '') {
        throw new LoginFlowError(LoginErrorCode.providerProfileError, `Naver ${PROFILE_PATH} answered ${status} with resultcode ${String(envelope.resultcode)}`)
      }
      return {
        provider: 'naver',
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
