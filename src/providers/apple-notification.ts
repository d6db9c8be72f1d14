import type { createRemoteJWKSet, JWTPayload } from 'jose'
import type { AppleConfig } from '../config.js'
import { ProviderTimeoutError, ProviderUnavailableError, UnlinkRequestInvalidError, UnlinkUnauthorizedError } from '../errors.js'
import { appleBoolean, APPLE_KEYS_PATH } from './apple.js'

// Sign in with Apple's server-to-server notifications (developer.apple.com/documentation/signinwithapple/
// processing-changes-for-sign-in-with-apple-accounts): Apple POSTs `{"payload": "<JWT>"}`, signed
// RS256 with the keys of its JWKS, `iss` Apple, `aud` the client id (our Services ID, or an app's
// bundle id), `iat`, `jti`, and `events`: a JSON-encoded string in real deliveries, an object in
// Apple's examples (docs/providers.md, quirk 9). One event per notification.

export const APPLE_EVENT_TYPES = ['consent-revoked', 'account-delete', 'account-deleted', 'email-disabled', 'email-enabled'] as const

export interface AppleEvent {
  /** One of APPLE_EVENT_TYPES, or a type Apple adds later (answered, not acted on). */
  type: string
  /** The person: an Apple identity's providerUserId. */
  sub: string
  /** When it happened, as a Date: Apple writes seconds in its example and milliseconds in real deliveries. */
  time?: Date
  email?: string
  isPrivateEmail: boolean
}

/** jose's codes for a token that is not Apple's, not for us, or no longer valid. */
const FORGED = new Set(['ERR_JWS_INVALID', 'ERR_JWT_INVALID', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'ERR_JWT_EXPIRED',
  'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED'])

export type AppleNotificationReader = (payload: string) => Promise<AppleEvent>

/** Seconds or milliseconds since 1970: below 10^11 it is seconds (that many milliseconds is 1973). */
function eventTime (value: unknown): Date | undefined {
  const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) return undefined
  return new Date(number < 1e11 ? number * 1000 : number)
}

/** The one event of a verified notification, or 400 `unlink_request_invalid`. */
export function readAppleEvent (claims: JWTPayload): AppleEvent {
  let events = claims.events
  if (typeof events === 'string') {
    try {
      events = JSON.parse(events)
    } catch {
      throw new UnlinkRequestInvalidError('Apple notification: events is not JSON')
    }
  }
  const event = (typeof events === 'object' && events !== null ? events : {}) as Record<string, unknown>
  if (typeof event.type !== 'string' || event.type === '' || typeof event.sub !== 'string' || event.sub === '') {
    throw new UnlinkRequestInvalidError('Apple notification: events needs a type and a sub')
  }
  return {
    type: event.type,
    sub: event.sub,
    time: eventTime(event.event_time) ?? eventTime(claims.iat),
    email: typeof event.email === 'string' && event.email !== '' ? event.email : undefined,
    isPrivateEmail: appleBoolean(event.is_private_email)
  }
}

/**
 * Reads a notification's payload: its signature against Apple's JWKS (cached by jose, fetched again for
 * an unknown `kid`), `iss` = APPLE_AUTH_URL, `aud` = APPLE_CLIENT_ID or one of APPLE_APP_IDS, not
 * expired. Anything else is 401 `unlink_unauthorized`; Apple's JWKS out of reach is 504
 * `provider_timeout` or 502 `provider_error` (nothing changed; Apple may deliver again).
 */
export function appleNotificationReader (config: Pick<AppleConfig, 'authUrl' | 'clientId' | 'appIds'>, timeoutMs: number): AppleNotificationReader {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined
  const audience = [config.clientId, ...config.appIds]
  return async payload => {
    const { createRemoteJWKSet, jwtVerify } = await import('jose')
    keys ??= createRemoteJWKSet(new URL(config.authUrl + APPLE_KEYS_PATH), { timeoutDuration: timeoutMs, cooldownDuration: 1000 })
    let claims: JWTPayload
    try {
      ({ payload: claims } = await jwtVerify(payload, keys, { issuer: config.authUrl, audience, algorithms: ['RS256'], requiredClaims: ['iat'] }))
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== undefined && FORGED.has(code)) throw new UnlinkUnauthorizedError(`Apple notification rejected: ${code}`)
      // Apple's keys could not be read (timeout, network, a bad reply): not the sender's fault.
      if (code === 'ERR_JWKS_TIMEOUT') throw new ProviderTimeoutError('Apple\'s signing keys did not answer in time; nothing changed', { cause: error })
      throw new ProviderUnavailableError(`Apple's signing keys could not be read (${code ?? (error as Error).message}); nothing changed`, { cause: error })
    }
    return readAppleEvent(claims)
  }
}
