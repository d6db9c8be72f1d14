import { Type } from 'typebox'
import { LoginErrorCode } from '../errors.js'
import { ErrorRef, PublicUserRef, ref } from '../schemas/common.js'
import { SignupProfileSchema } from '../users/schemas.js'
import { SECRET_PATTERN } from '../secrets.js'

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
    description: 'base64url(SHA-256(code_verifier)): binds the one-time code to the holder of the verifier instead of to this browser\'s cookie (for frontends on another site). Send `code_verifier` to POST /auth/exchange.'
  })),
  code_challenge_method: Type.Optional(Type.Literal('S256')),
  prompt: Type.Optional(Type.Literal('login', {
    description: 'Account switching: ask the provider to show its login screen again instead of silently reusing the account signed in there (Kakao `prompt=login`, Naver `auth_type=reauthenticate`, Google `prompt=select_account`, GitHub `prompt=select_account`, OpenID Connect `prompt=login`). A provider of your own decides through its `loginParams`; without one, ignored.'
  }))
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

export const ExchangeBodySchema = Type.Object({
  code: Type.String({ pattern: SECRET_PATTERN, description: 'The one-time code from the handoff redirect' }),
  code_verifier: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9._~-]{43,128}$',
    description: 'Only when the login started with `code_challenge`: the verifier (RFC 7636 characters, 43-128).'
  }))
}, { additionalProperties: false })

export const AuthenticatedSchema = Type.Object({
  status: Type.Literal('authenticated'),
  user: PublicUserRef
}, { additionalProperties: false })

export const ProvidersSchema = Type.Object({
  providers: Type.Array(Type.Object({
    id: Type.String({ examples: ['github'] }),
    name: Type.String({ examples: ['GitHub'] }),
    loginUrl: Type.String({ examples: ['/auth/github/login'] })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

const SignupRequiredSchema = Type.Object({
  status: Type.Literal('signup_required'),
  profile: ref(SignupProfileSchema)
}, { additionalProperties: false, description: 'A first-time user: no session yet. An HttpOnly signup cookie is set; POST /auth/signup with a nickname.' })

export const ExchangeResponses = {
  200: Type.Union([AuthenticatedSchema, SignupRequiredSchema], { description: 'Branch on `status`' }),
  400: ErrorRef,
  403: ErrorRef,
  429: ErrorRef
}

export const LinkResponses = {
  200: LinkStartedSchema,
  401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
  403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS; or `csrf_rejected`: no `X-Requested-With`, or a foreign `Origin`' },
  404: { ...ErrorRef, description: '`provider_not_found`' },
  429: { ...ErrorRef, description: '`rate_limited`' }
}

/** The OpenAPI prose of the /auth login routes; the route files keep their one-line summaries. */
export const AuthDescriptions = {
  login: 'Sets the state (and PKCE verifier) cookies for this browser and redirects to the provider\'s authorize page. Open it as a page, not with fetch. The one-time code this login ends with is bound to this browser by an HttpOnly cookie; a frontend on another site, where that cookie cannot reach POST /auth/exchange, passes `code_challenge` (S256) here and `code_verifier` to the exchange instead. `prompt=login` lets the person pick another provider account than the one their browser is signed in to.',
  callback: 'Called by the provider, never by the frontend. Checks the state, exchanges the provider code, finds or creates the user, and redirects to FRONTEND_URL with `code=<one-time code>` (and `returnTo`) in the fragment (or query, with HANDOFF_CODE_IN=query). On failure it redirects there with `error=<code>`: ' +
    Object.values(LoginErrorCode).map(value => `\`${value}\``).join(', ') + '. ' +
    'When the provider gave its own reason, `provider=<id>` and `provider_code=` (Kakao\'s `KOE010`…) come with it; `provider_consent_missing` comes with `missing=<field,…>`. GET /auth/messages words each of them in Korean or English. ' +
    'When the provider\'s profile lacks a field the app requires (KAKAO_REQUIRED_FIELDS, NAVER_REQUIRED_FIELDS), it first redirects back to the provider, once, to ask for it again (consent repair); nothing is written until the login completes.',
  exchange: 'Consumes the code from the handoff redirect (once: a second exchange fails). A returning user gets `{ status: "authenticated", user }` and two HttpOnly cookies: the short-lived access JWT and the refresh token (plus the browser\'s device cookie, kept if it has one: see POST /auth/refresh). A first-time user gets `{ status: "signup_required", profile }` and a short-lived HttpOnly signup cookie instead: continue with POST /auth/signup. Unknown, expired and used codes all answer the same 400 `login_code_invalid`.',
  signup: 'Needs the HttpOnly signup cookie set by POST /auth/exchange when it answered `signup_required`. Creates the user and its identity in one transaction, clears the signup cookie, sets the session cookies (and the browser\'s device cookie). 400 `nickname_invalid` / `nickname_reserved`, 409 `nickname_taken` (the signup cookie stays valid: try another nickname), 401 `signup_invalid` without a valid signup cookie (or when it was already used). 500 `signup_hook_failed` when the app\'s onUserCreated hook failed: nothing was saved, the signup cookie stays valid.',
  link: 'Needs a recent sign-in, like deleting the account: a live session opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default; refreshing does not count), else 403 `reauthentication_required` and no cookie is set: send the user through a provider login again, then retry. ' +
    'Like every state-changing call, it needs `X-Requested-With` and an allowed `Origin` (403 `csrf_rejected` otherwise; a link never starts from a cross-site navigation). ' +
    'Sets this browser\'s state (and PKCE verifier) cookies for the provider\'s callback and answers the provider\'s authorize URL: navigate there (`location.assign(authorizationUrl)`). ' +
    'The callback links the identity only for the session that started it, if it is still live, and redirects to FRONTEND_URL with `linked=<provider>` (and `returnTo`), or with `error=identity_in_use` (it belongs to another account) or `error=link_session_invalid` (that session signed out, was revoked or expired, or this browser now holds another one). ' +
    '`returnTo` may come in the JSON body or the query.',
  devLogin: 'Only for requests made on this machine: from a loopback address, to a loopback host name, not relayed by a proxy or tunnel (no X-Forwarded-For, Forwarded or X-Real-IP); anything else answers 403 `dev_login_local_only`.'
}
