// Readable sentences for every `error=` code of the redirect and every API error `code`.

const messages: Record<string, string> = {
  // The browser steps: FRONTEND_URL#error=<code>
  access_denied: 'You cancelled the sign-in on the provider’s page. Nothing was shared; you can try again any time.',
  invalid_state: 'This sign-in did not start in this browser, or took too long. Please start it again.',
  invalid_callback: 'The provider sent back an incomplete answer. Please try again.',
  provider_token_error: 'The provider did not accept the sign-in. Please try again.',
  provider_profile_error: 'We could not read your profile from the provider. Please try again.',
  provider_error: 'The provider reported an error. Please try again in a moment.',
  provider_misconfigured: 'This provider is not set up correctly on our side (client secret or redirect URI). Please use another one for now.',
  provider_scope_not_enabled: 'The provider app has not enabled a permission we ask for. Please use another provider for now.',
  provider_timeout: 'The provider did not answer in time. Please try again.',
  identity_in_use: 'That provider account already belongs to another account here. Sign in with it to use that account.',
  link_session_invalid: 'The link was started from a session that has since ended. Sign in and link again.',
  server_error: 'Something went wrong on our side. Please try again.',
  // The API: { code }
  login_code_invalid: 'This sign-in link was already used or has expired. Please sign in again.',
  signup_invalid: 'Your sign-up took too long or was already finished. Please sign in again.',
  nickname_taken: 'Someone already has this nickname. Please pick another one.',
  not_authenticated: 'You are not signed in.',
  refresh_token_invalid: 'Your session has ended. Please sign in again.',
  refresh_token_reused: 'Your session was ended to protect your account: its sign-in was used from another browser. Please sign in again.',
  reauthentication_required: 'For your security, this needs a recent sign-in. Sign in again to confirm.',
  user_not_found: 'This account no longer exists.',
  session_not_found: 'That session no longer exists.',
  identity_not_found: 'That sign-in method is no longer linked.',
  identity_ambiguous: 'You have several accounts of this provider linked. Reload the page and unlink one from the list.',
  last_identity: 'This is your only way to sign in. Link another provider before you unlink it.',
  rate_limited: 'Too many attempts. Please wait a minute and try again.',
  csrf_rejected: 'The request was blocked as a possible cross-site request. Reload the page and try again.',
  database_unavailable: 'The service is briefly unavailable. Please try again in a few seconds.',
  internal_error: 'Something went wrong on our side. Please try again.',
  network_error: 'The server could not be reached. Check your connection and try again.',
  invalid_request: 'The request was not understood. Please reload the page.',
  not_found: 'That does not exist (or no longer does).',
  provider_not_found: 'This sign-in provider is not enabled.',
  payload_too_large: 'That is too long.',
  unsupported_media_type: 'The request was not understood. Please reload the page.'
}

/** The sentence for a code; `fallback` (the server's message) for codes the server explains itself. */
export function describeError (code: string, fallback?: string): string {
  if (code === 'nickname_invalid' || code === 'nickname_reserved') return fallback ?? 'This nickname is not allowed.'
  return messages[code] ?? fallback ?? `Sign-in failed (${code}). Please try again.`
}
