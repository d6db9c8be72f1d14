import type { ProfileField } from '../config.js'
import { LoginErrorCode, LoginFlowError, type LoginErrorCodeValue } from '../errors.js'

/** What every provider's profile becomes, whatever its wire format. */
export interface NormalizedProfile {
  provider: string
  /** The provider's stable user id, always a string. */
  providerUserId: string
  /** The provider's handle or nickname: our nickname suggestion. */
  nickname?: string
  name?: string
  email?: string
  /** True only when the provider says it verified this address. */
  emailVerified: boolean
  /**
   * `false`: the address is verified for this person but must never join another account by email
   * (Apple's private relay addresses, which only Apple vouches for and which stand for no mailbox
   * anyone else could prove). Absent: the provider's `linkByVerifiedEmail` decides.
   */
  emailLinkable?: boolean
  avatarUrl?: string
}

/** The token endpoint's reply, as simple-oauth2 (inside @fastify/oauth2) parsed it. */
export type TokenResponse = Record<string, unknown>

export interface ProviderCallContext {
  timeoutMs: number
  /** Where a call that decides not to reach the provider says why (the grant revocation runner passes its logger). */
  log?: { info(object: object, message: string): void }
}

/** What a profile read may need besides the access token: OpenID Connect verifies the id_token. */
export interface ProfileContext extends ProviderCallContext {
  tokenReply: TokenResponse
  /** The nonce this browser's login sent to the authorize endpoint. */
  nonce: string
  /**
   * The callback's parameters (its query, or its form for a `form_post` provider), state already
   * checked. Apple sends the person's name only there, and only on the first authorization.
   */
  callbackParams?: Record<string, unknown>
}

/** The callback's pieces a provider needs to make its own token request. */
export interface CodeExchange {
  code: string
  state: string
  redirectUri: string
  codeVerifier?: string
}

/** The endpoints and options handed to @fastify/oauth2 for this provider. */
export interface OAuth2Settings {
  clientId: string
  clientSecret: string
  authorizeUrl: string
  tokenUrl: string
  scope: string[]
  /** How the scope list is joined in the authorize URL (Kakao wants commas). Default: a space. */
  scopeSeparator?: string
  pkce?: 'S256'
  /** Extra authorize parameters (GitHub's `allow_signup`, Kakao's `prompt`, …). */
  authorizeParams?: Record<string, string>
  /** How the client authenticates at the token endpoint. */
  clientAuth: 'body' | 'header'
  /** Send a per-login `nonce` (OpenID Connect); fetchProfile receives it to check the id_token. */
  nonce?: boolean
  /**
   * `form_post`: the provider POSTs the callback from its own site (OAuth 2.0 Form Post Response
   * Mode; Apple requires it once a scope is asked). handoff adds `response_mode=form_post` and answers
   * POST /auth/<id>/callback. The provider must implement exchangeCode.
   */
  responseMode?: 'form_post'
}

/**
 * A provider's id: its routes are /auth/<id>/login, /auth/<id>/callback and /auth/<id>/link, its
 * cookies handoff_<id>_state and the like, and its identities are stored under it. So only what is
 * safe in a URL path and a cookie name, and one spelling only (no upper case, no underscore, which
 * separates the parts of a cookie name).
 */
export const PROVIDER_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/
export const PROVIDER_ID_RULE = '1 to 32 lower-case letters, digits and hyphens, starting and ending with a letter or digit'

/**
 * Ids of the providers handoff brings, configured or not: another provider under one of them would
 * sign people in as that provider's existing identities once it is configured. `dev` is the dev login's.
 */
export const BUILT_IN_PROVIDER_IDS: ReadonlySet<string> = new Set(['kakao', 'naver', 'google', 'github', 'apple', 'oidc', 'dev'])

/** A provider's tokens for one identity, as kept (encrypted) after a login: see src/providers/token-vault.ts. */
export interface ProviderTokens {
  accessToken: string
  /** Absent when the provider did not say (GitHub's do not expire). */
  accessTokenExpiresAt?: Date
  refreshToken?: string
  /**
   * The client id the tokens were issued to, when it is not the provider's configured one: an Apple
   * app's bundle id (POST /auth/apple/token with an authorizationCode). Refreshing and revoking them
   * must name that client (Apple refuses another's). Absent: the provider's own client id.
   */
  clientId?: string
}

/** One identity as the provider knows it, for calls made after the login (unlink, revoke). */
export interface ProviderIdentity {
  providerUserId: string
  /** The kept tokens, when there are any (none without PROVIDER_TOKEN_KEYS in production, or for old identities). */
  tokens: ProviderTokens | null
}

/** What the login URL may ask of the provider besides the login itself. */
export interface AuthorizeOptions {
  /** `?prompt=login`: show the provider's login screen again instead of reusing its session (account switching). */
  promptLogin?: boolean
  /**
   * The second round of a login whose profile lacked these required fields (Provider.requiredFields):
   * ask the person for them again (Naver `auth_type=reprompt`, Kakao an additional consent).
   */
  consentRepair?: ProfileField[]
}

/**
 * What a native app's provider SDK gave it, posted to POST /auth/:provider/token: an id_token with the
 * raw nonce the app generated (the SDK got it raw or as its SHA-256 in hex), or an access token.
 */
export type NativeSdkToken = { idToken: string, nonce: string, authorizationCode?: string } | { accessToken: string }

/**
 * What verifyNativeToken proved: the profile, and the token reply of an authorization code the app
 * sent along (Apple's), to be kept like a browser login's; `clientId` is whom it was issued to.
 */
export interface NativeSignIn {
  profile: NormalizedProfile
  tokens?: { reply: TokenResponse, clientId: string }
}

/** A call made with kept tokens: `clientId` is ProviderTokens.clientId (absent: the configured client id). */
export interface KeptTokenCallContext extends ProviderCallContext {
  clientId?: string
}

/** What a provider's revokeGrant did: called it (`revoked`), or had no kept token to call it with. */
export type GrantRevocationOutcome = 'revoked' | 'no_token'

export interface Provider {
  /** Matches PROVIDER_ID_PATTERN, and fetchProfile's profiles carry it as `provider`. */
  id: string
  /** The label GET /auth/providers gives the frontend's login button. */
  displayName: string
  /**
   * `true`: a profile with `emailVerified: true` may join the existing account that has the same
   * verified address (LINK_BY_VERIFIED_EMAIL). Only for a provider that verifies addresses itself
   * and lets no user claim one unverified: anyone else's "verified" address is an account takeover.
   * Default: never links by email.
   */
  linkByVerifiedEmail?: boolean
  oauth2: OAuth2Settings
  /** For a token call @fastify/oauth2 cannot make faithfully: the provider makes it itself. */
  exchangeCode?(exchange: CodeExchange, context: ProviderCallContext): Promise<TokenResponse>
  /** Maps an `error` on the callback when the provider has its own codes (default: access_denied or provider_error). */
  callbackError?(query: Record<string, unknown>): LoginFlowError | undefined
  /** Reads the token reply, turning a provider's error-in-a-200 into a LoginFlowError. */
  readAccessToken(reply: TokenResponse): string
  fetchProfile(accessToken: string, context: ProfileContext): Promise<NormalizedProfile>
  /**
   * Extra authorize parameters for one login's options (Kakao `prompt=login`, Naver
   * `auth_type=reauthenticate`). They may add `scope`, never the state, PKCE or nonce parameters.
   */
  loginParams?(options: AuthorizeOptions): Record<string, string>
  /**
   * Profile fields every login must bring (KAKAO_REQUIRED_FIELDS, NAVER_REQUIRED_FIELDS). A profile
   * without one sends the browser back to the provider once, with loginParams({ consentRepair });
   * still without it, the login ends as provider_consent_missing. Default: none.
   */
  requiredFields?: readonly ProfileField[]
  /**
   * A refresh-token grant. The reply may lack `refresh_token` (Naver never sends a new one, Kakao only
   * near the old one's expiry): the caller keeps the old one then. Resolve with the provider's reply,
   * its error replies included (`{ error: 'invalid_grant' }` tells the caller the grant is gone, and
   * it drops the kept tokens; any other error keeps them); throw only when no reply could be read
   * (network, timeout, an unreadable answer). See src/providers/provider-tokens.ts.
   */
  refreshTokens?(refreshToken: string, context: KeptTokenCallContext): Promise<TokenResponse>
  /**
   * Tells the provider we no longer use this identity (the account was deleted, or the person
   * unlinked it here), so the provider stops listing our app. Runs in the background after the
   * identity is gone and is retried while it throws; it never blocks the deletion. Resolves with
   * `'no_token'` when the provider revokes by token only and none was kept: nothing was called.
   */
  revokeGrant?(identity: ProviderIdentity, context: ProviderCallContext): Promise<GrantRevocationOutcome>
  /**
   * A native app's sign-in with this provider's own SDK (POST /auth/:provider/token): the profile of a
   * token proven, with the provider, to be issued to one of our apps for this sign-in (audience, nonce,
   * the app id a token names), and the tokens of an authorization code sent along (Apple's only, see
   * nativeAuthorizationCode), exchanged once the token is proven. Throws NativeTokenUnsupportedError for a kind of token it does not take,
   * NativeTokenInvalidError (or a LoginFlowError, provider_token_error) for one it refuses. Absent: the
   * provider takes none (its apps sign in through the system browser).
   */
  verifyNativeToken?(token: NativeSdkToken, context: ProviderCallContext): Promise<NativeSignIn>
  /**
   * `true`: verifyNativeToken also takes an `authorizationCode` with an id_token (Apple's, from an
   * app), exchanges it and returns the tokens to keep. Any other provider is sent none: the route
   * refuses it (400 native_token_unsupported) rather than drop it unread.
   */
  nativeAuthorizationCode?: boolean
}

/**
 * Calls a provider API for JSON, bounded by the provider timeout; failures become LoginFlowErrors
 * (`failure`, provider_profile_error unless told, or provider_timeout).
 */
export async function fetchProviderJson (url: string, init: RequestInit & { timeoutMs: number, failure?: LoginErrorCodeValue }): Promise<{ status: number, body: unknown, text: string }> {
  const { timeoutMs, failure = LoginErrorCode.providerProfileError, ...requestInit } = init
  let response: Response
  let text: string
  try {
    response = await fetch(url, { ...requestInit, signal: AbortSignal.timeout(timeoutMs) })
    text = await response.text()
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError'
    throw new LoginFlowError(
      timedOut ? LoginErrorCode.providerTimeout : failure,
      timedOut ? `provider did not answer within ${timeoutMs} ms: ${new URL(url).pathname}` : `provider request failed: ${new URL(url).pathname}`,
      { cause: error }
    )
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new LoginFlowError(failure, `provider answered ${response.status} with non-JSON from ${new URL(url).pathname}`)
  }
  return { status: response.status, body, text }
}

export const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined

/**
 * POSTs an authorization-code grant as a form body (the code and the secret stay out of any URL),
 * for providers whose token call @fastify/oauth2 cannot make as they need it.
 */
export function postTokenForm (url: string, form: Record<string, string>, timeoutMs: number): Promise<{ status: number, body: unknown, text: string }> {
  return fetchProviderJson(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    timeoutMs,
    failure: LoginErrorCode.providerTokenError
  })
}
