import type { ProfileField } from '../config.js'
import type { LoginErrorCodeValue } from '../errors.js'

// The English catalog: every sentence a person reads from handoff, keyed by the stable codes of
// src/errors.ts. ko.ts has the same keys (its type is derived from this file). `{name}` is filled in
// by formatMessage; test/messages/catalog.test.ts checks that both languages use the same names.

export const en = {
  /** `message` of a JSON error answer, by `code`; also GET /auth/messages `errors`. */
  errors: {
    not_found: 'That does not exist (or no longer does).',
    provider_not_found: 'This sign-in provider is not enabled.',
    login_code_invalid: 'This sign-in link was already used or has expired. Please sign in again.',
    not_authenticated: 'Sign in first: the access token is missing, expired or invalid.',
    refresh_token_invalid: 'Your session has ended. Please sign in again.',
    refresh_token_reused: 'Your session was ended to protect your account: its sign-in was used again, maybe from another browser. Please sign in again.',
    session_not_found: 'That session no longer exists.',
    csrf_rejected: 'The request was refused as a possible cross-site request. Reload the page and try again.',
    dev_login_local_only: 'The dev provider only answers requests made on this machine (no proxy, no tunnel).',
    reauthentication_required: 'For your security, this needs a recent sign-in. Sign in again to confirm.',
    signup_invalid: 'Your sign-up took too long or was already finished. Please sign in again.',
    nickname_invalid: 'This nickname is not allowed.',
    nickname_reserved: 'This nickname is reserved (or looks like a reserved one).',
    nickname_taken: 'This nickname is already taken. Please pick another one.',
    identity_not_found: 'That sign-in method is no longer linked to your account.',
    identity_ambiguous: 'You have several accounts of this provider linked. Reload the page and unlink one from the list.',
    last_identity: 'This is your only way to sign in. Link another provider before you unlink it.',
    user_not_found: 'This account no longer exists.',
    signup_hook_failed: 'The account could not be set up; nothing was saved. Try again.',
    unlink_unauthorized: 'The unlink notification does not carry this app\'s credentials, or is too old.',
    unlink_request_invalid: 'The unlink notification is missing a field or is malformed.',
    metrics_token_invalid: 'GET /metrics needs the header Authorization: Bearer <METRICS_TOKEN>.',
    database_unavailable: 'The service is briefly unavailable. Please try again in a few seconds.',
    internal_error: 'Something went wrong on our side. Please try again.',
    invalid_request: 'The request is invalid.',
    payload_too_large: 'The request body is too large.',
    unsupported_media_type: 'This content type is not accepted here: send JSON (Content-Type: application/json).',
    rate_limited: 'Too many attempts. Please wait a moment and try again.',
    redirect_uri_not_allowed: 'This redirect_uri is not listed in NATIVE_REDIRECT_URIS (matched exactly; a loopback http://127.0.0.1 or http://[::1] redirect on any port).',
    code_challenge_required: 'A login with redirect_uri needs code_challenge (the base64url SHA-256 of your code_verifier) and code_challenge_method=S256.',
    native_token_unsupported: 'This sign-in provider does not take a token from an app here. Sign in through the system browser instead.',
    native_token_invalid: 'The provider did not confirm this sign-in. Please sign in again.',
    native_link_unsupported: 'Linking another sign-in method needs the browser session; it cannot start from the app.',
    provider_consent_missing: 'The provider did not share something this app needs. Ask for it again in the app (the provider\'s additional consent), then sign in again.',
    provider_timeout: 'The provider did not answer in time. Please try again.',
    provider_error: 'The provider reported an error. Please try again in a moment.'
  },

  /** A more precise `message` for some answers (src/errors.ts throws them with these keys). */
  details: {
    route_not_found: 'Route {route} not found',
    provider_not_found_named: 'Unknown or disabled provider "{provider}".',
    csrf_header_missing: 'Missing the X-Requested-With header required on this route.',
    csrf_origin_not_allowed: 'Requests from {origin} are not allowed.',
    nickname_length: 'A nickname has {min} to {max} characters.',
    nickname_characters: 'Use Hangul, Latin letters, digits, "_" and "." only.',
    nickname_only_digits: 'A nickname cannot be only digits.',
    nickname_available: 'This nickname is available.',
    identity_ambiguous_provider: 'Your account has several {provider} identities: unlink one by its identity id (listed by GET /users/me).',
    invalid_request_detail: 'The request is invalid: {detail}',
    request_timeout: 'The request took too long to arrive.',
    headers_too_large: 'The request headers are too large.',
    request_malformed: 'The request is malformed.',
    path_parameter_too_long: 'A path parameter is too long.',
    url_malformed: 'The URL is malformed.',
    rate_limited_retry: 'Too many attempts. Please try again in {seconds} s.'
  },

  /** The frontend's `error=<code>` after a browser step (login, link). */
  login: {
    access_denied: 'You cancelled the sign-in on the provider\'s page. Nothing was shared; you can try again any time.',
    invalid_state: 'This sign-in did not start in this browser, or took too long. Please start it again.',
    invalid_callback: 'The provider sent back an incomplete answer. Please try again.',
    provider_token_error: 'The provider did not accept the sign-in. Please try again.',
    provider_profile_error: 'We could not read your profile from the provider. Please try again.',
    provider_error: 'The provider reported an error. Please try again in a moment.',
    provider_misconfigured: 'This sign-in method is not set up correctly on our side. Please use another one for now.',
    provider_scope_not_enabled: 'This sign-in method asks for information its provider app has not enabled. Please use another one for now.',
    provider_timeout: 'The provider did not answer in time. Please try again.',
    provider_consent_missing: 'We did not receive your {missing}, which this app needs. Sign in again and allow it on the consent screen.',
    identity_in_use: 'That provider account already belongs to another account here. Sign in with it to use that account.',
    link_session_invalid: 'The link was started from a session that has since ended. Sign in and link again.',
    server_error: 'Something went wrong on our side. Please try again.'
  } satisfies Record<LoginErrorCodeValue, string>,

  /** Names for `missing=<field,…>` (provider_consent_missing), joined by `listSeparator`. */
  fields: {
    email: 'email address',
    name: 'name',
    nickname: 'nickname',
    avatar: 'profile picture'
  } satisfies Record<ProfileField, string>,
  listSeparator: ', ',

  /**
   * Kakao's `KOE` codes (`provider_code=` beside `error=`): what the developer changes in Kakao's
   * console, whose menus are Korean (an English gloss follows each path). Paths are the console's
   * since 2025, then the older console's. `{callbackUrl}` is this server's Kakao callback.
   */
  kakao: {
    KOE004: 'Kakao Login is off for this app. Turn it on under [카카오 로그인] > [사용 설정] (Kakao Login > Activation; older console: [내 애플리케이션] > [카카오 로그인] > [활성화 설정]).',
    KOE005: 'This Kakao app is still a test app and this Kakao account is not one of its members. Add the account under [앱] > [멤버] (App > Members; older console: [내 애플리케이션] > [팀 관리]).',
    KOE006: 'Kakao does not know this redirect URI. Register {callbackUrl} exactly under [앱] > [플랫폼 키] > [REST API 키] > [리다이렉트 URI] (App > Platform keys > REST API key > Redirect URI; older console: [내 애플리케이션] > [카카오 로그인] > [Redirect URI]).',
    KOE007: 'Kakao does not know this logout redirect URI. Register the value of KAKAO_LOGOUT_REDIRECT_URI exactly under [카카오 로그인] > [고급] > [로그아웃 리다이렉트 URI] (Kakao Login > Advanced > Logout redirect URI).',
    KOE010: 'Kakao refused the client secret. Copy the code from [앱] > [플랫폼 키] > [REST API 키] > [클라이언트 시크릿] (App > Platform keys > REST API key > Client secret; older console: [내 애플리케이션] > [보안]) into KAKAO_CLIENT_SECRET, or deactivate it there. REST API keys created since 2025 have it on by default.',
    KOE101: 'Kakao does not know this app key. KAKAO_CLIENT_ID must be the REST API key from [앱] > [플랫폼 키] (App > Platform keys; older console: [내 애플리케이션] > [앱 키]), not the JavaScript, native or admin key.',
    KOE205: 'The app asks for a consent item that is not set up for it. Set it up under [카카오 로그인] > [동의항목] (Kakao Login > Consent items) or remove it from KAKAO_SCOPES; account_email needs a Biz app ([앱] > [일반] > [비즈니스 정보], App > General > Business information).',
    KOE303: 'The token request\'s redirect URI differs from the login\'s. PUBLIC_URL must be the same on every instance and match the redirect URI registered at Kakao ({callbackUrl}).',
    KOE320: 'The authorization code was invalid, expired or already used (a reloaded callback page, or a login left open too long). Nothing to change in the console: sign in again.',
    KOE400: 'Kakao says the ID token is invalid. Check that KAKAO_CLIENT_ID is the REST API key (the token\'s audience) and that [카카오 로그인] > [OpenID Connect] (Kakao Login > OpenID Connect) is on.'
  } satisfies Record<`KOE${number}`, string>
}
