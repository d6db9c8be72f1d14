import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { NaverConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, UnlinkRequestInvalidError, UnlinkUnauthorizedError } from '../errors.js'
import { errorBody, postGrantForm, ProviderGrantError } from './grant-request.js'
import { postTokenForm, type Provider, type TokenResponse } from './provider.js'

// What happens to a Naver identity after its login (github.com/naver/naver-openapi-guide
// ko/login/devguide/devguide.md §4.1.2 refresh, §4.3 revoke, §4.4 unlink webhook): refreshing its
// tokens, revoking them, and checking Naver's unlink webhook. Paths are Naver's; only the host is
// configurable.
const TOKEN_PATH = '/oauth2.0/token'
// OpenID Connect mode (NAVER_OIDC) refreshes where it logged in (§3.5.6); revoke has one endpoint.
const OIDC_TOKEN_PATH = '/oauth2/token'
const REVOKE_PATH = '/oauth2.0/revoke'

export function naverAccountCalls (config: NaverConfig): Pick<Provider, 'refreshTokens' | 'revokeGrant'> {
  return {
    async refreshTokens (refreshToken, { timeoutMs }) {
      const form = { grant_type: 'refresh_token', client_id: config.clientId, client_secret: config.clientSecret, refresh_token: refreshToken }
      const { status, body } = await postTokenForm(config.authUrl + (config.oidc ? OIDC_TOKEN_PATH : TOKEN_PATH), form, timeoutMs)
      const reply = (body ?? {}) as TokenResponse
      // Naver reports token errors with HTTP 200 (legacy; a 4xx on the OIDC endpoint) and an `error` field: the caller's to read, as any error reply.
      if (typeof reply.error === 'string') return reply
      if (status !== 200) throw new LoginFlowError(LoginErrorCode.providerTokenError, `Naver token endpoint answered ${status} to a refresh`)
      // Naver's refresh never returns a new refresh token: the old one stays the one to keep.
      return { ...reply, refresh_token: typeof reply.refresh_token === 'string' && reply.refresh_token !== '' ? reply.refresh_token : refreshToken }
    },

    async revokeGrant ({ providerUserId, tokens }, context) {
      // Naver revokes by token only (no admin call by user id): without a kept token there is nothing to call.
      const token = tokens?.refreshToken ?? tokens?.accessToken
      if (token === undefined || token === '') {
        context.log?.info({ provider: 'naver', providerUserId }, 'naver: no token kept for this identity, nothing to revoke (the person can remove the app under 내정보 > 연결된 서비스 관리)')
        return 'no_token'
      }
      // Revoking either token revokes its pair; the refresh token outlives the access token, so it goes first.
      const hint = tokens?.refreshToken !== undefined && tokens.refreshToken !== '' ? 'refresh_token' : 'access_token'
      const { status, text } = await postGrantForm(config.authUrl + REVOKE_PATH, {
        form: { client_id: config.clientId, client_secret: config.clientSecret, token, token_type_hint: hint },
        timeoutMs: context.timeoutMs,
        provider: 'Naver'
      })
      // 200 also for a token already revoked or unknown: Naver says to judge by the status alone.
      if (status === 200) return 'revoked'
      const { error } = errorBody(text)
      if (status === 401) throw new ProviderGrantError(`Naver refused our client credentials (${REVOKE_PATH} answered 401 ${String(error ?? '')}): check NAVER_CLIENT_ID and NAVER_CLIENT_SECRET`, { retryable: false })
      throw new ProviderGrantError(`Naver ${REVOKE_PATH} answered ${status}${error === undefined ? '' : ` ${String(error)}`}`, { retryable: status !== 400 })
    }
  }
}

/** Naver's key for the unlink webhook: MD5 of the client secret, 16 bytes, both the AES-128 key and the HMAC key. */
export const naverUnlinkKey = (clientSecret: string): Buffer => createHash('md5').update(clientSecret, 'utf8').digest()

// Naver's Java sample encodes with commons-codec's URL-safe base64 without padding and decodes with
// a decoder that takes either alphabet, padded or not: so do we, and nothing else.
const BASE64 = /^[A-Za-z0-9_+/-]+={0,2}$/
const decodeBase64 = (value: string): Buffer | undefined => BASE64.test(value) ? Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined

const field = (params: Record<string, unknown>, name: string): string | undefined => {
  const value = params[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Checks Naver's unlink webhook and returns the Naver user id (`response.id` of the profile) it
 * names. In order: the four fields (else 400), `clientId` (401), the HMAC-SHA256 signature over
 * `clientId=…&encryptUniqueId=…&timestamp=…` with the values as sent, compared in constant time
 * (401), the timestamp within `unlinkWindowSeconds` of `now` (401: a replay of an old call), then
 * `encryptUniqueId` = base64url(IV ‖ AES-128-CBC-PKCS5(id)) decrypted (400 when it does not).
 */
export function readNaverUnlink (config: NaverConfig, params: Record<string, unknown>, now: Date): string {
  const clientId = field(params, 'clientId')
  const encryptUniqueId = field(params, 'encryptUniqueId')
  const timestamp = field(params, 'timestamp')
  const signature = field(params, 'signature')
  if (clientId === undefined || encryptUniqueId === undefined || timestamp === undefined || signature === undefined) {
    throw new UnlinkRequestInvalidError('Naver\'s unlink webhook needs clientId, encryptUniqueId, timestamp and signature')
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new UnlinkRequestInvalidError('timestamp must be unix seconds')
  if (clientId !== config.clientId) throw new UnlinkUnauthorizedError('clientId is not NAVER_CLIENT_ID')

  const key = naverUnlinkKey(config.clientSecret)
  const expected = createHmac('sha256', key).update(`clientId=${clientId}&encryptUniqueId=${encryptUniqueId}&timestamp=${timestamp}`, 'utf8').digest()
  const presented = decodeBase64(signature)
  if (presented === undefined || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new UnlinkUnauthorizedError('The signature does not match (HMAC-SHA256 keyed with MD5 of NAVER_CLIENT_SECRET)')
  }
  const skew = Math.abs(now.getTime() / 1000 - Number(timestamp))
  if (skew > config.unlinkWindowSeconds) {
    throw new UnlinkUnauthorizedError(`The timestamp is ${Math.round(skew)} s from this server's clock, over NAVER_UNLINK_WINDOW_SECONDS (${config.unlinkWindowSeconds})`)
  }

  const sealed = decodeBase64(encryptUniqueId)
  // An IV, then at least one whole AES block.
  if (sealed === undefined || sealed.length < 32 || sealed.length % 16 !== 0) throw new UnlinkRequestInvalidError('encryptUniqueId is not an IV and AES-128-CBC blocks in base64url')
  let id: string
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, sealed.subarray(0, 16))
    id = Buffer.concat([decipher.update(sealed.subarray(16)), decipher.final()]).toString('utf8')
  } catch {
    throw new UnlinkRequestInvalidError('encryptUniqueId does not decrypt with NAVER_CLIENT_SECRET')
  }
  // A Naver id is at most 64 visible ASCII characters (digits, or base64-like for newer apps).
  if (!/^[\x21-\x7e]{1,64}$/.test(id)) throw new UnlinkRequestInvalidError('encryptUniqueId does not decrypt to a Naver user id')
  return id
}
