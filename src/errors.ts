import createError from '@fastify/error'

// Every error we answer with. `code` is the stable, documented contract; messages may change.
// Fastify's own refusals (invalid_request, payload_too_large, unsupported_media_type) are not here:
// plugins/error-handler.ts and plugins/client-error.ts give them their codes.
// JSON routes answer { statusCode, code, error, message }; the browser redirect steps send `code`
// to the frontend as `error=<code>` instead (see LoginErrorCode).

export const NotFoundError = createError('not_found', 'Route %s not found', 404)
export const ProviderNotFoundError = createError('provider_not_found', 'Unknown or disabled provider "%s"', 404)

export const LoginCodeInvalidError = createError('login_code_invalid', 'The login code is invalid, expired or already used', 400)
export const NotAuthenticatedError = createError('not_authenticated', 'Sign in first: the access token is missing, expired or invalid', 401)
export const RefreshTokenInvalidError = createError('refresh_token_invalid', 'The refresh token is missing, expired or revoked', 401)
export const RefreshTokenReusedError = createError('refresh_token_reused', 'This refresh token was already used: the session has been revoked to protect the account. Sign in again.', 401)
export const SessionNotFoundError = createError('session_not_found', 'No such active session of yours', 404)
export const CsrfRejectedError = createError('csrf_rejected', '%s', 403)
export const DevLoginLocalOnlyError = createError('dev_login_local_only', 'The dev provider only answers requests made on this machine (no proxy, no tunnel)', 403)
/** Deleting the account, starting a link or unlinking an identity needs a sign-in from the last REAUTH_MAX_AGE_SECONDS. */
export const ReauthenticationRequiredError = createError('reauthentication_required', 'Sign in again to confirm: this needs a recent sign-in', 403)

export const SignupInvalidError = createError('signup_invalid', 'No pending signup: the signup cookie is missing, expired or already used. Sign in again.', 401)
export const NicknameInvalidError = createError('nickname_invalid', '%s', 400)
export const NicknameReservedError = createError('nickname_reserved', '%s', 400)
export const NicknameTakenError = createError('nickname_taken', 'This nickname is already taken.', 409)
export const IdentityNotFoundError = createError('identity_not_found', 'No such identity on your account', 404)
export const IdentityAmbiguousError = createError('identity_ambiguous', 'Your account has several %s identities: unlink one by its identity id (listed by GET /users/me)', 409)
export const LastIdentityError = createError('last_identity', 'This is the last way to sign in to your account: link another provider first', 409)
export const UserNotFoundError = createError('user_not_found', 'This account no longer exists', 401)
/** The app's onUserCreated hook failed: the signup was rolled back, the signup cookie stays valid. */
export const SignupHookFailedError = createError('signup_hook_failed', 'The account could not be set up; nothing was saved. Try again.', 500)

/** A provider's unlink webhook (Kakao, Naver) or Apple notification without the provider's credentials: wrong admin key, app id, client id or signature. */
export const UnlinkUnauthorizedError = createError('unlink_unauthorized', '%s', 401)
/** A provider's unlink webhook whose fields are missing, malformed, undecryptable or outside the timestamp window. */
export const UnlinkRequestInvalidError = createError('unlink_request_invalid', '%s', 400)

/** A provider's webhook we cannot check right now (Apple's signing keys did not answer): nothing changed; the provider may deliver again. */
export const ProviderUnavailableError = createError('provider_unavailable', '%s', 503)

/** GET /metrics on the public port (METRICS_TOKEN) without `Authorization: Bearer <METRICS_TOKEN>`. */
export const MetricsTokenInvalidError = createError('metrics_token_invalid', 'GET /metrics needs the header Authorization: Bearer <METRICS_TOKEN>', 401)

export const DatabaseUnavailableError = createError('database_unavailable', 'The database is unavailable; try again shortly', 503)
export const InternalError = createError('internal_error', 'Something went wrong on our side', 500)

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
