import type { KakaoConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, UnlinkRequestInvalidError, UnlinkUnauthorizedError } from '../errors.js'
import { safeEqual } from '../secrets.js'
import { errorBody, postGrantForm, ProviderGrantError } from './grant-request.js'
import { postTokenForm, type Provider, type TokenResponse } from './provider.js'

// What happens to a Kakao identity after its login (developers.kakao.com/docs/latest/ko/kakaologin/
// rest-api #refresh-token, #unlink, #logout-of-service-and-kakaoaccount, and …/kakaologin/callback):
// refreshing its tokens, unlinking it with the admin key, logging out of the Kakao account, and
// checking Kakao's unlink webhook. Paths are Kakao's; only the hosts are configurable.
const TOKEN_PATH = '/oauth/token'
const UNLINK_PATH = '/v1/user/unlink'
const LOGOUT_PATH = '/oauth/logout'

/** Kakao's API error for a user who is not linked to the app (any more): an unlink has nothing left to do. */
const NOT_REGISTERED_USER = -101

export function kakaoAccountCalls (config: KakaoConfig): Pick<Provider, 'refreshTokens' | 'revokeGrant'> {
  const refreshTokens: NonNullable<Provider['refreshTokens']> = async (refreshToken, { timeoutMs }) => {
    const form: Record<string, string> = { grant_type: 'refresh_token', client_id: config.clientId, refresh_token: refreshToken }
    if (config.clientSecret !== undefined) form.client_secret = config.clientSecret
    const { status, body } = await postTokenForm(config.authUrl + TOKEN_PATH, form, timeoutMs)
    const reply = (body ?? {}) as TokenResponse
    // An error reply (400/401 with a KOE code) is the caller's to read: `invalid_grant` says the grant is gone.
    if (typeof reply.error === 'string') return reply
    if (status !== 200) throw new LoginFlowError(LoginErrorCode.providerTokenError, `Kakao token endpoint answered ${status} to a refresh`)
    // Kakao sends a new refresh token only when the old one has under a month left: keep the old one otherwise.
    return { ...reply, refresh_token: typeof reply.refresh_token === 'string' && reply.refresh_token !== '' ? reply.refresh_token : refreshToken }
  }

  const { adminKey } = config
  // Without the admin key there is no unlink on withdrawal: the runner sees no revokeGrant.
  if (adminKey === undefined) return { refreshTokens }

  const revokeGrant: NonNullable<Provider['revokeGrant']> = async ({ providerUserId }, { timeoutMs }) => {
    // The admin key unlinks by user id: no token of the person is needed, so old identities unlink too.
    const { status, text } = await postGrantForm(config.apiUrl + UNLINK_PATH, {
      form: { target_id_type: 'user_id', target_id: providerUserId },
      headers: { authorization: `KakaoAK ${adminKey}` },
      timeoutMs,
      provider: 'Kakao'
    })
    if (status === 200) return 'revoked'
    const { code } = errorBody(text)
    // Already unlinked (the person disconnected us at Kakao, or an earlier attempt went through): done.
    if (code === NOT_REGISTERED_USER) return 'revoked'
    if (status === 401) throw new ProviderGrantError(`Kakao refused the admin key (${UNLINK_PATH} answered 401, code ${String(code)}): set KAKAO_ADMIN_KEY to the app's primary admin key`, { retryable: false })
    throw new ProviderGrantError(`Kakao ${UNLINK_PATH} answered ${status}${code === undefined ? '' : `, code ${String(code)}`}`, { retryable: true })
  }
  return { refreshTokens, revokeGrant }
}

/**
 * Kakao's "logout with the Kakao account" page (카카오계정과 함께 로그아웃), which ends the browser's
 * Kakao session and comes back to KAKAO_LOGOUT_REDIRECT_URI; null without that setting. Only the
 * REST API key (public: it is in every authorize URL) and our own URI are in it.
 */
export function kakaoLogoutUrl (config: KakaoConfig): string | null {
  if (config.logoutRedirectUri === undefined) return null
  const url = new URL(config.authUrl + LOGOUT_PATH)
  url.searchParams.set('client_id', config.clientId)
  url.searchParams.set('logout_redirect_uri', config.logoutRedirectUri)
  return url.toString()
}

/** What Kakao's unlink webhook tells us, once checked. */
export interface KakaoUnlink {
  userId: string
  /** ACCOUNT_DELETE, FORCED_ACCOUNT_DELETE, UNLINK_FROM_APPS, UNLINK_FROM_ADMIN, INCOMPLETE_SIGN_UP, or a newer one. */
  referrerType: string
}

const field = (params: Record<string, unknown>, name: string): string | undefined => {
  const value = params[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Checks Kakao's unlink webhook: `Authorization: KakaoAK <primary admin key>` (compared in constant
 * time, by hash), then its fields, then `app_id` against KAKAO_APP_ID. A caller without the key
 * learns nothing about the fields.
 */
export function readKakaoUnlink (config: KakaoConfig & { adminKey: string, appId: string }, authorization: string | undefined, params: Record<string, unknown>): KakaoUnlink {
  if (authorization === undefined || !safeEqual(authorization, `KakaoAK ${config.adminKey}`)) {
    throw new UnlinkUnauthorizedError('The Authorization header is not KakaoAK with this app\'s primary admin key')
  }
  const appId = field(params, 'app_id')
  const userId = field(params, 'user_id')
  const referrerType = field(params, 'referrer_type')
  if (appId === undefined || userId === undefined || referrerType === undefined) {
    throw new UnlinkRequestInvalidError('Kakao\'s unlink webhook needs app_id, user_id and referrer_type')
  }
  // Kakao user ids are 64-bit integers; referrer_type is an upper-case word (a new one is still an unlink).
  if (!/^\d{1,20}$/.test(userId) || !/^[A-Z_]{1,64}$/.test(referrerType)) {
    throw new UnlinkRequestInvalidError('user_id must be a Kakao user id (digits) and referrer_type an upper-case reason')
  }
  if (appId !== config.appId) throw new UnlinkUnauthorizedError('app_id is not KAKAO_APP_ID')
  return { userId, referrerType }
}
