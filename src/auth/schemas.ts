import { Type } from 'typebox'
import { LoginErrorCode } from '../errors.js'
import { ErrorRef, PublicUserRef, ref } from '../schemas/common.js'
import { NicknameBodySchema, SignupProfileSchema } from '../users/schemas.js'
import { SECRET_PATTERN } from '../secrets.js'
import { APPLE_USER_FIELD_MAX } from '../providers/apple-user.js'
import { DeviceSecretSchema, NativeTokensSchema } from '../sessions/schemas.js'

export const ProviderParamsSchema = Type.Object({
  provider: Type.String({ description: 'Provider id, as listed by GET /auth/providers (e.g. `github`)', examples: ['github'] })
})

const ReturnToSchema = Type.String({
  maxLength: 2048,
  description: 'A path on the frontend to go back to after login, handed back with the code as `returnTo`. Anything not on the frontend\'s origin is dropped.'
})

export const LoginQuerySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema),
  code_challenge: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'base64url(SHA-256(code_verifier)): binds the one-time code to the holder of the verifier instead of to this browser\'s cookie (for frontends on another site, and required with `redirect_uri`). Send `code_verifier` to POST /auth/exchange.'
  })),
  code_challenge_method: Type.Optional(Type.Literal('S256', { description: 'Required with `redirect_uri`.' })),
  prompt: Type.Optional(Type.Literal('login', {
    description: 'Account switching: ask the provider to show its login screen again instead of silently reusing the account signed in there (Kakao `prompt=login`, Naver `auth_type=reauthenticate`, Google `prompt=select_account`, GitHub `prompt=select_account`, OpenID Connect `prompt=login`). A provider of your own decides through its `loginParams`; without one, ignored.'
  })),
  redirect_uri: Type.Optional(Type.String({
    maxLength: 2048,
    description: 'Native apps (RFC 8252): where the login ends, instead of the frontend: one of NATIVE_REDIRECT_URIS, exactly (a private-use scheme such as `com.example.app:/oauth`, a claimed https URL, or a loopback `http://127.0.0.1/…` on any port). Needs `code_challenge` and `code_challenge_method=S256`. The callback redirects there with `code` (exchange it with `client: "native"`) or `error`, and `state`. An unlisted URI answers 400 `redirect_uri_not_allowed` and is never redirected to.',
    examples: ['com.example.app:/oauth']
  })),
  state: Type.Optional(Type.String({ maxLength: 1024, description: 'With `redirect_uri`: the app\'s own state, handed back unchanged with the code or the error.' }))
})

export const LinkQuerySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema)
})

export const LinkBodySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema)
}, { additionalProperties: false, description: 'Optional; `returnTo` here wins over the query\'s.' })

export const LinkStartedSchema = Type.Object({
  authorizationUrl: Type.String({ format: 'uri', description: 'The provider\'s authorize page: navigate there (`location.assign`), do not fetch it.' })
}, { additionalProperties: false })

export const CallbackQuerySchema = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 1024 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 4096 }))
}, { additionalProperties: true })

/** The fields a form_post provider (Apple) posts back, relayed once by our own page (`handoff_relay`). */
export const CallbackFormSchema = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 1024 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 4096 })),
  id_token: Type.Optional(Type.String({ maxLength: 8192, description: 'Ignored: handoff verifies the id_token of its own token request' })),
  user: Type.Optional(Type.String({ maxLength: APPLE_USER_FIELD_MAX, description: 'Apple, first authorization only: `{"name":{"firstName","lastName"}}` as JSON, unsigned (only the name is read)' })),
  handoff_relay: Type.Optional(Type.Literal('1', { description: 'Set by handoff\'s own relay page on the second, same-site POST' }))
}, { additionalProperties: true })

/** The fields of CallbackFormSchema the relay page posts again, provider's own only. */
export const CALLBACK_FORM_FIELDS = ['code', 'state', 'error', 'error_description', 'id_token', 'user'] as const

export const ExchangeBodySchema = Type.Object({
  code: Type.String({ pattern: SECRET_PATTERN, description: 'The one-time code from the handoff redirect' }),
  code_verifier: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9._~-]{43,128}$',
    description: 'Only when the login started with `code_challenge` (always for a native app): the verifier (RFC 7636 characters, 43-128).'
  })),
  client: Type.Optional(Type.Union([Type.Literal('browser'), Type.Literal('native')], {
    description: '`native` for a code a native app received at its redirect_uri: the tokens come back in the body, no cookie is set. A native code never redeems as a browser\'s, nor a browser\'s as native (400 `login_code_invalid`). Default `browser`.'
  })),
  deviceSecret: Type.Optional(DeviceSecretSchema)
}, { additionalProperties: false })

export const AuthenticatedSchema = Type.Object({
  status: Type.Literal('authenticated'),
  user: PublicUserRef,
  tokens: Type.Optional(NativeTokensSchema)
}, { additionalProperties: false })

export const ProvidersSchema = Type.Object({
  providers: Type.Array(Type.Object({
    id: Type.String({ examples: ['github'] }),
    name: Type.String({ examples: ['GitHub'] }),
    loginUrl: Type.String({ examples: ['/auth/github/login'] })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export const SignupRequiredSchema = Type.Object({
  status: Type.Literal('signup_required'),
  profile: ref(SignupProfileSchema),
  signupToken: Type.Optional(Type.String({ description: 'Native apps only: send it with the nickname to POST /auth/signup (a browser gets the signup cookie instead)' })),
  signupExpiresIn: Type.Optional(Type.Integer({ description: 'Native apps only: seconds the signup token stays valid (SIGNUP_TTL_SECONDS)' }))
}, { additionalProperties: false, description: 'A first-time user: no session yet. An HttpOnly signup cookie is set (a native app gets `signupToken` instead); POST /auth/signup with a nickname.' })

export const ExchangeResponses = {
  200: Type.Union([AuthenticatedSchema, SignupRequiredSchema], { description: 'Branch on `status`' }),
  400: ErrorRef,
  403: ErrorRef,
  429: ErrorRef
}

/** POST /auth/:provider/token: what a provider's SDK gave the app. */
export const ProviderTokenBodySchema = Type.Union([
  Type.Object({
    // Printable ASCII only: a token goes into an HTTP header or a JWT parser, and a control or
    // non-ASCII character there is the client's error (400), not a provider failure.
    idToken: Type.String({ minLength: 1, maxLength: 8192, pattern: '^[\\x21-\\x7e]+$', description: 'The id_token from the SDK (Kakao with OpenID Connect, Google Sign-In, Sign in with Apple)' }),
    nonce: Type.String({ minLength: 16, maxLength: 256, description: 'The raw nonce the app generated for this sign-in; the SDK got it, or its SHA-256 in hex (Apple\'s convention, recommended everywhere: the raw value then never appears in the token). Each id_token signs in once.' }),
    // Apple's codes are under 100 characters; the bound only keeps an oversized body from reaching Apple.
    authorizationCode: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, pattern: '^[\\x21-\\x7e]+$', description: 'Apple only: the `authorizationCode` of the same ASAuthorizationAppleIDCredential as the identityToken. Exchanged at Apple for the person\'s tokens, kept encrypted, so that deleting the account revokes them at Apple (App Store guideline 5.1.1(v)); without it the sign-in works but nothing can be revoked. Single use, valid 5 minutes. Other providers refuse it (400 `native_token_unsupported`).' })),
    deviceSecret: Type.Optional(DeviceSecretSchema)
  }, { additionalProperties: false }),
  Type.Object({
    accessToken: Type.String({ minLength: 1, maxLength: 4096, pattern: '^[\\x21-\\x7e]+$', description: 'The access token from the SDK (Kakao without OpenID Connect); checked with the provider to be our app\'s' }),
    deviceSecret: Type.Optional(DeviceSecretSchema)
  }, { additionalProperties: false })
])

export const ProviderTokenResponses = {
  200: Type.Union([AuthenticatedSchema, SignupRequiredSchema], { description: 'As POST /auth/exchange with `client: "native"`: branch on `status`' }),
  400: { ...ErrorRef, description: '`native_token_unsupported`: this provider takes no SDK token (Naver, GitHub, OpenID Connect issuers), or not this kind, or its native app keys are not configured, or an `authorizationCode` was sent to a provider other than Apple; `invalid_request`' },
  401: { ...ErrorRef, description: '`native_token_invalid`: the token failed the provider\'s checks (signature, expiry, issuer, audience: another app\'s, nonce, a token already used), or Apple refused the `authorizationCode` (used, expired, another app\'s) or it belongs to another person than the identityToken; nothing was created' },
  403: { ...ErrorRef, description: '`provider_consent_missing`: the profile lacks a field the app requires (KAKAO_REQUIRED_FIELDS…); ask for it with the SDK and sign in again' },
  404: { ...ErrorRef, description: '`provider_not_found`' },
  429: { ...ErrorRef, description: '`rate_limited`' },
  502: { ...ErrorRef, description: '`provider_error`: the provider failed; retry later' },
  504: { ...ErrorRef, description: '`provider_timeout`: the provider did not answer within PROVIDER_TIMEOUT_MS; retry' }
}

export const LinkResponses = {
  200: LinkStartedSchema,
  400: { ...ErrorRef, description: '`native_link_unsupported`: a native app\'s session (bearer token); `invalid_request`' },
  401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
  403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS; or `csrf_rejected`: no `X-Requested-With`, or a foreign `Origin`' },
  404: { ...ErrorRef, description: '`provider_not_found`' },
  429: { ...ErrorRef, description: '`rate_limited`' }
}

/** The OpenAPI prose of the /auth login routes; the route files keep their one-line summaries. */
export const AuthDescriptions = {
  login: 'Sets the state (and PKCE verifier) cookies for this browser and redirects to the provider\'s authorize page. Open it as a page, not with fetch. The one-time code this login ends with is bound to this browser by an HttpOnly cookie; a frontend on another site, where that cookie cannot reach POST /auth/exchange, passes `code_challenge` (S256) here and `code_verifier` to the exchange instead. `prompt=login` lets the person pick another provider account than the one their browser is signed in to. ' +
    'A native app (RFC 8252) opens this URL in the system browser with `redirect_uri` (one of NATIVE_REDIRECT_URIS), `code_challenge`, `code_challenge_method=S256` and its own `state`: the login ends at that URI with `?code=…&state=…` (or `?error=…&state=…`), and the code is exchanged with `client: "native"`. 400 `redirect_uri_not_allowed` for a URI not listed, 400 `code_challenge_required` without PKCE.',
  callback: 'Called by the provider, never by the frontend. Checks the state, exchanges the provider code, finds or creates the user, and redirects to FRONTEND_URL with `code=<one-time code>` (and `returnTo`) in the fragment (or query, with HANDOFF_CODE_IN=query), or to a native app\'s redirect_uri with `code` and its `state` in the query. On failure it redirects there with `error=<code>`: ' +
    Object.values(LoginErrorCode).map(value => `\`${value}\``).join(', ') + '. ' +
    'When the provider gave its own reason, `provider=<id>` and `provider_code=` (Kakao\'s `KOE010`…) come with it; `provider_consent_missing` comes with `missing=<field,…>`. GET /auth/messages words each of them in Korean or English. ' +
    'When the provider\'s profile lacks a field the app requires (KAKAO_REQUIRED_FIELDS, NAVER_REQUIRED_FIELDS), it first redirects back to the provider, once, to ask for it again (consent repair); nothing is written until the login completes.',
  exchange: 'Consumes the code from the handoff redirect (once: a second exchange fails). A returning user gets `{ status: "authenticated", user }` and two HttpOnly cookies: the short-lived access JWT and the refresh token (plus the browser\'s device cookie, kept if it has one: see POST /auth/refresh). A first-time user gets `{ status: "signup_required", profile }` and a short-lived HttpOnly signup cookie instead: continue with POST /auth/signup. Unknown, expired and used codes all answer the same 400 `login_code_invalid`. ' +
    'A native app sends `client: "native"` with its `code_verifier` (and optionally its `deviceSecret`): no cookie is set, the answer carries `tokens` (`accessToken`, `expiresIn`, `refreshToken`, `refreshTokenExpiresIn`), or, for a first login, `signupToken` for POST /auth/signup. A native code presented without `client: "native"`, or a browser\'s with it, is `login_code_invalid` and stays unused.',
  signup: 'Needs the HttpOnly signup cookie set by POST /auth/exchange when it answered `signup_required` (a native app sends its `signupToken` in the body instead, and gets `tokens` back, no cookie; a browser\'s signup token is refused from the body, a native one from the cookie). Creates the user and its identity in one transaction, clears the signup cookie, sets the session cookies (and the browser\'s device cookie). 400 `nickname_invalid` / `nickname_reserved`, 409 `nickname_taken` (the signup cookie stays valid: try another nickname), 401 `signup_invalid` without a valid signup cookie (or when it was already used). 500 `signup_hook_failed` when the app\'s onUserCreated hook failed: nothing was saved, the signup cookie stays valid.',
  link: 'Needs a recent sign-in, like deleting the account: a live session opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default; refreshing does not count), else 403 `reauthentication_required` and no cookie is set: send the user through a provider login again, then retry. ' +
    'Like every state-changing call, it needs `X-Requested-With` and an allowed `Origin` (403 `csrf_rejected` otherwise; a link never starts from a cross-site navigation). ' +
    'Sets this browser\'s state (and PKCE verifier) cookies for the provider\'s callback and answers the provider\'s authorize URL: navigate there (`location.assign(authorizationUrl)`). ' +
    'The callback links the identity only for the session that started it, if it is still live, and redirects to FRONTEND_URL with `linked=<provider>` (and `returnTo`), or with `error=identity_in_use` (it belongs to another account) or `error=link_session_invalid` (that session signed out, was revoked or expired, or this browser now holds another one). ' +
    '`returnTo` may come in the JSON body or the query.',
  formPostCallback: 'For providers that answer with `response_mode=form_post` (Apple): their page POSTs `code`, `state` (and, from Apple, `user` on the first authorization) from the provider\'s own site, so the browser sends no SameSite=Lax login cookie with it. The first POST is answered with a small page (200, HTML, no-store) that posts the same fields again from this origin, which carries the cookies; that second POST checks the state and ends like the GET callback: a redirect to FRONTEND_URL with `code` or `error` (`invalid_state` when the state is not this browser\'s). A malformed form ends as `error=invalid_callback`.',
  devLogin: 'Only for requests made on this machine: from a loopback address, to a loopback host name, not relayed by a proxy or tunnel (no X-Forwarded-For, Forwarded or X-Real-IP); anything else answers 403 `dev_login_local_only`.'
}

/** POST /auth/signup: the nickname, and a native app's signup token. */
export const SignupBodySchema = Type.Object({
  ...NicknameBodySchema.properties,
  signupToken: Type.Optional(Type.String({ pattern: SECRET_PATTERN, description: 'Native apps only: the `signupToken` from the exchange' })),
  deviceSecret: Type.Optional(DeviceSecretSchema)
}, { additionalProperties: false })
