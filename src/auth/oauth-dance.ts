import { createHash } from 'node:crypto'
import fastifyOauth2, { type OAuth2Namespace } from '@fastify/oauth2'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import type { Provider, TokenResponse } from '../providers/provider.js'
import { generateSecret } from '../secrets.js'
import { callbackPath, loginCookies } from './login-cookies.js'

// @fastify/oauth2 drives the dance: the state and PKCE verifier cookies (named and flagged by
// login-cookies.ts), the authorize URL and the token exchange (simple-oauth2). One registration per
// enabled provider, inside the auth plugin; what it throws is mapped to our codes here too.

const decoratorName = (providerId: string) => `oauth2_${providerId}`

/**
 * The OpenID Connect nonce of a login, derived from its state: bound to the same browser cookie,
 * so the callback can check the id_token without another cookie.
 */
export const nonceFor = (state: string): string => createHash('sha256').update(`nonce:${state}`).digest('base64url')

// @fastify/oauth2 builds authorize parameters per request only through this hook (its Apple preset
// uses it); without it the nonce would not be sent, and every id_token check would fail, not pass.
const kGenerateCallbackUriParams = Symbol.for('fastify-oauth2.generate-callback-uri-params')
const withNonce = (params: Record<string, string>, _request: unknown, _scope: unknown, state: string) => ({ ...params, nonce: nonceFor(state) })

export async function registerOAuthDance (app: FastifyInstance, config: Config, provider: Provider): Promise<void> {
  const { oauth2 } = provider
  const authorize = new URL(oauth2.authorizeUrl)
  const token = new URL(oauth2.tokenUrl)
  const cookies = loginCookies(config, provider.id)
  await app.register(fastifyOauth2, {
    name: decoratorName(provider.id),
    credentials: {
      client: { id: oauth2.clientId, secret: oauth2.clientSecret },
      auth: {
        authorizeHost: authorize.origin,
        authorizePath: authorize.pathname,
        tokenHost: token.origin,
        tokenPath: token.pathname,
        ...(oauth2.nonce === true ? { [kGenerateCallbackUriParams]: withNonce } : {})
      },
      // simple-oauth2 supports scopeSeparator; @fastify/oauth2's types omit it.
      options: { authorizationMethod: oauth2.clientAuth, scopeSeparator: oauth2.scopeSeparator ?? ' ' } as { authorizationMethod: 'body' | 'header' },
      http: { timeout: config.providerTimeoutMs }
    },
    scope: oauth2.scope,
    callbackUri: config.publicUrl + callbackPath(config, provider.id),
    callbackUriParams: { ...oauth2.authorizeParams, ...(oauth2.responseMode === undefined ? {} : { response_mode: oauth2.responseMode }) },
    pkce: oauth2.pkce,
    generateStateFunction: () => generateSecret(),
    checkStateFunction: (request: FastifyRequest) => cookies.stateMatches(request, (request.query as { state?: unknown }).state),
    redirectStateCookieName: cookies.names.state,
    verifierCookieName: cookies.names.verifier,
    cookie: cookies.options,
    userAgent: 'handoff'
  })
}

/**
 * What @fastify/oauth2 writes into every authorize URL from this login's cookies and our settings.
 * Per-login parameters (Provider.loginParams) may add to the URL, never replace one of these: the
 * state, the PKCE challenge and the nonce stay bound to the cookies the same call sets.
 */
const DANCE_PARAMS = new Set(['response_type', 'response_mode', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'nonce'])

/**
 * The provider's authorize URL for this browser; sets the state (and verifier) cookies. `params`
 * are this login's own (Provider.loginParams: `prompt=login`, a consent repair's `scope`), set on
 * the URL @fastify/oauth2 built: its `callbackUriParams` are fixed at registration, and its only
 * per-request hook (the nonce's) cannot change `scope`.
 */
export async function authorizationUrl (app: FastifyInstance, providerId: string, request: FastifyRequest, reply: FastifyReply, params: Record<string, string> = {}): Promise<string> {
  const url = new URL(await app.getDecorator<OAuth2Namespace>(decoratorName(providerId)).generateAuthorizationUri(request, reply))
  for (const [name, value] of Object.entries(params)) {
    if (DANCE_PARAMS.has(name)) throw new Error(`provider ${providerId}: loginParams may not set "${name}"`)
    url.searchParams.set(name, value)
  }
  return url.toString()
}

/** What simple-oauth2 throws: a Boom error from wreck (status in output) or a plain Error. */
interface TokenRequestError { isBoom?: boolean, output?: { statusCode?: number }, data?: { payload?: unknown }, message: string }

function tokenExchangeError (provider: Provider, error: unknown): LoginFlowError {
  const failure = error as TokenRequestError
  if (failure.message === 'Invalid state') return new LoginFlowError(LoginErrorCode.invalidState, 'state does not match this browser\'s login')
  const status = failure.output?.statusCode
  // wreck answers a timeout with a 504 of its own, and a refused connection with a 502.
  if (status === 504) return new LoginFlowError(LoginErrorCode.providerTimeout, `${provider.displayName} token endpoint did not answer in time`, { cause: error })
  const payload = failure.data?.payload
  const providerError = payload !== null && typeof payload === 'object' && 'error' in payload ? String((payload as { error: unknown }).error) : undefined
  return new LoginFlowError(LoginErrorCode.providerTokenError,
    `${provider.displayName} token endpoint failed${status === undefined ? '' : ` (${status})`}${providerError === undefined ? '' : `: ${providerError}`}`, { cause: error })
}

/** The token request of the callback, made by @fastify/oauth2 (state checked again, verifier from its cookie). */
export async function requestTokens (app: FastifyInstance, provider: Provider, request: FastifyRequest, reply: FastifyReply): Promise<TokenResponse> {
  try {
    const { token } = await app.getDecorator<OAuth2Namespace>(decoratorName(provider.id)).getAccessTokenFromAuthorizationCodeFlow(request, reply)
    return token as unknown as TokenResponse
  } catch (failure) {
    throw tokenExchangeError(provider, failure)
  }
}
