import createError from '@fastify/error'
import type { CheckedNickname } from './users/nicknames.js'
import { en } from './messages/en.js'
import { withWording } from './messages/index.js'

// Every error we answer with. `code` is the stable, documented contract. What a person reads is in
// src/messages (English and Korean, chosen by Accept-Language): the English sentence here is the
// catalog's, and it is what logs and a host app's own error handler see.
// JSON routes answer { statusCode, code, error, message }; the browser redirect steps send `code`
// to the frontend as `error=<code>` instead (see LoginErrorCode).

/** Fastify's own refusals (bad JSON or schema, body too large, wrong content type, rate limits) have no class here: plugins/error-handler.ts, client-error.ts and rate-limit.ts give them these codes. */
export const FrameworkErrorCode = {
  invalidRequest: 'invalid_request',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  rateLimited: 'rate_limited'
} as const

export const NotFoundError = createError('not_found', en.errors.not_found, 404)
export const ProviderNotFoundError = createError('provider_not_found', en.errors.provider_not_found, 404)

export const LoginCodeInvalidError = createError('login_code_invalid', en.errors.login_code_invalid, 400)
export const NotAuthenticatedError = createError('not_authenticated', en.errors.not_authenticated, 401)
export const RefreshTokenInvalidError = createError('refresh_token_invalid', en.errors.refresh_token_invalid, 401)
export const RefreshTokenReusedError = createError('refresh_token_reused', en.errors.refresh_token_reused, 401)
export const SessionNotFoundError = createError('session_not_found', en.errors.session_not_found, 404)
export const CsrfRejectedError = createError('csrf_rejected', en.errors.csrf_rejected, 403)
export const DevLoginLocalOnlyError = createError('dev_login_local_only', en.errors.dev_login_local_only, 403)
/** Deleting the account, starting a link or unlinking an identity needs a sign-in from the last REAUTH_MAX_AGE_SECONDS. */
export const ReauthenticationRequiredError = createError('reauthentication_required', en.errors.reauthentication_required, 403)

export const SignupInvalidError = createError('signup_invalid', en.errors.signup_invalid, 401)
export const NicknameInvalidError = createError('nickname_invalid', en.errors.nickname_invalid, 400)
export const NicknameReservedError = createError('nickname_reserved', en.errors.nickname_reserved, 400)
export const NicknameTakenError = createError('nickname_taken', en.errors.nickname_taken, 409)
export const IdentityNotFoundError = createError('identity_not_found', en.errors.identity_not_found, 404)
export const IdentityAmbiguousError = createError('identity_ambiguous', en.errors.identity_ambiguous, 409)
export const LastIdentityError = createError('last_identity', en.errors.last_identity, 409)
export const UserNotFoundError = createError('user_not_found', en.errors.user_not_found, 401)
/** The app's onUserCreated hook failed: the signup was rolled back, the signup cookie stays valid. */
export const SignupHookFailedError = createError('signup_hook_failed', en.errors.signup_hook_failed, 500)

/** A login start with a redirect_uri that NATIVE_REDIRECT_URIS does not list: answered here, never redirected to. */
export const RedirectUriNotAllowedError = createError('redirect_uri_not_allowed', en.errors.redirect_uri_not_allowed, 400)
/** A native login start without PKCE: the code sent to an app's redirect must be useless to any other app. */
export const CodeChallengeRequiredError = createError('code_challenge_required', en.errors.code_challenge_required, 400)
/** POST /auth/:provider/token for a provider, or a kind of token, this server does not take from an SDK; the detail (for the app's developer) says why. */
export const NativeTokenUnsupportedError = createError('native_token_unsupported', '%s', 400)
/** POST /auth/:provider/token with a token the provider's rules refuse (forged, expired, another app's, a wrong nonce, used); the detail says which. */
export const NativeTokenInvalidError = createError('native_token_invalid', '%s', 401)
/** A link started with a native app's bearer token: linking runs in a browser that holds the session's cookies. */
export const NativeLinkUnsupportedError = createError('native_link_unsupported', en.errors.native_link_unsupported, 400)
/** POST /auth/:provider/token with a profile that lacks a field the app requires (KAKAO_REQUIRED_FIELDS…); the detail names them. */
export const ProviderConsentMissingError = createError('provider_consent_missing', '%s', 403)
/** A provider call made for a JSON route (POST /auth/:provider/token, Apple's notifications' keys) did not answer in time. */
export const ProviderTimeoutError = createError('provider_timeout', '%s', 504)
/** A provider call made for a JSON route failed on the provider's side (or Apple's keys could not be read to check a notification). */
export const ProviderUnavailableError = createError('provider_error', '%s', 502)

/**
 * A provider's unlink webhook (Kakao, Naver) or Apple notification without the provider's credentials:
 * wrong admin key, app id, client id or signature, or a signed call outside the timestamp window (a replay).
 */
export const UnlinkUnauthorizedError = createError('unlink_unauthorized', '%s', 401)
/** A provider's unlink webhook whose fields are missing, malformed or undecryptable. */
export const UnlinkRequestInvalidError = createError('unlink_request_invalid', '%s', 400)

/** GET /metrics on the public port (METRICS_TOKEN) without `Authorization: Bearer <METRICS_TOKEN>`. */
export const MetricsTokenInvalidError = createError('metrics_token_invalid', en.errors.metrics_token_invalid, 401)

export const DatabaseUnavailableError = createError('database_unavailable', en.errors.database_unavailable, 503)
export const InternalError = createError('internal_error', en.errors.internal_error, 500)

// The answers whose sentence names what was asked for or which rule failed (src/messages `details`).
export const providerNotFound = (provider: string) => withWording(new ProviderNotFoundError(), 'provider_not_found_named', { provider })
export const identityAmbiguous = (provider: string) => withWording(new IdentityAmbiguousError(), 'identity_ambiguous_provider', { provider })
export const csrfHeaderMissing = () => withWording(new CsrfRejectedError(), 'csrf_header_missing')
export const csrfOriginNotAllowed = (origin: string) => withWording(new CsrfRejectedError(), 'csrf_origin_not_allowed', { origin })
/** A nickname checkNickname refused: reserved, or which rule it breaks. */
export const nicknameRefused = (check: Exclude<CheckedNickname, { valid: true }>) =>
  check.reason === 'reserved' ? new NicknameReservedError() : withWording(new NicknameInvalidError(), check.wording.key, check.wording.params)

/**
 * Codes sent to the frontend as `error=<code>` when a browser step (login, callback) fails.
 * Listed in the README and the OpenAPI description of the callback route.
 */
export const LoginErrorCode = {
  /** The person declined on the provider's consent page. */
  accessDenied: 'access_denied',
  /** The state is missing, wrong or expired: the login did not start in this browser. */
  invalidState: 'invalid_state',
  /** The callback carried neither a code nor an error. */
  invalidCallback: 'invalid_callback',
  /** The provider refused the code exchange (bad code, bad credentials, redirect mismatch). */
  providerTokenError: 'provider_token_error',
  /** The provider's profile endpoint failed or answered something we cannot read. */
  providerProfileError: 'provider_profile_error',
  /** The provider reported another error on the callback. */
  providerError: 'provider_error',
  /** The provider refused our app's settings (client secret, app key, redirect URI): fix the configuration. */
  providerMisconfigured: 'provider_misconfigured',
  /** We asked for a scope or consent item the provider app has not enabled (Kakao KOE205). */
  providerScopeNotEnabled: 'provider_scope_not_enabled',
  /** The provider did not answer in time. */
  providerTimeout: 'provider_timeout',
  /**
   * A profile field the app requires (KAKAO_REQUIRED_FIELDS, NAVER_REQUIRED_FIELDS) is still missing
   * after asking the person once more: the redirect also carries `missing=<field,…>`.
   */
  providerConsentMissing: 'provider_consent_missing',
  /** Linking: the identity already belongs to another account. */
  identityInUse: 'identity_in_use',
  /** Linking: the session that started the link is gone or is not this browser's. */
  linkSessionInvalid: 'link_session_invalid',
  /** Our side failed (database down, bug). */
  serverError: 'server_error'
} as const
export type LoginErrorCodeValue = typeof LoginErrorCode[keyof typeof LoginErrorCode]

export interface LoginFlowErrorOptions {
  cause?: unknown
  /**
   * The provider's own error code when it names what to fix (Kakao's `KOE010`…): sent to the
   * frontend as `provider_code=<code>`, and the message catalog explains it.
   */
  providerCode?: string
  /** For provider_consent_missing: our field names (`email`, …), sent as `missing=email,…`. */
  missing?: string[]
}

/** A failure during the browser steps, carried to the frontend as `error=<code>`. */
export class LoginFlowError extends Error {
  readonly providerCode?: string
  readonly missing?: string[]

  constructor (readonly code: LoginErrorCodeValue, message: string, options: LoginFlowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LoginFlowError'
    this.providerCode = options.providerCode
    this.missing = options.missing
  }
}
