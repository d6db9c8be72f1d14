import { createHash } from 'node:crypto'
import fastifyOauth2, { type OAuth2Namespace } from '@fastify/oauth2'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { Provider } from '../providers/provider.js'
import { generateSecret, safeEqual } from '../secrets.js'

// @fastify/oauth2 drives the dance: the state and PKCE verifier cookies, the authorize URL and the
// token exchange (simple-oauth2). One registration per enabled provider, inside the auth plugin.

export const STATE_COOKIE = 'handoff_oauth_state'
export const VERIFIER_COOKIE = 'handoff_oauth_verifier'
export const RETURN_TO_COOKIE = 'handoff_return_to'
export const CHALLENGE_COOKIE = 'handoff_code_challenge'
/** Set by GET /auth/:provider/link: the session this dance links an identity to. */
export const LINK_COOKIE = 'handoff_link_session'
/** How long a person may take on the provider's pages. */
const DANCE_COOKIE_MAX_AGE = 600

export const callbackPath = (providerId: string) => `/auth/${providerId}/callback`

/** Options for the short-lived cookies of one login: sent back only to that provider's callback. */
export function danceCookieOptions (config: Config, providerId: string) {
  // Lax at least: these arrive with the provider's top-level redirect back to us.
  return { path: callbackPath(providerId), httpOnly: true, secure: config.cookies.secure, sameSite: config.cookies.sameSite === 'none' ? 'none' as const : 'lax' as const, maxAge: DANCE_COOKIE_MAX_AGE }
}

/** The state in the query must equal the one this browser got as a cookie at login (login CSRF). */
export function stateMatches (request: FastifyRequest): boolean {
  const state = (request.query as { state?: unknown }).state
  const expected = request.cookies[STATE_COOKIE]
  return typeof state === 'string' && typeof expected === 'string' && expected !== '' && safeEqual(state, expected)
}

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
  const oauth2 = typeof provider.oauth2 === 'function' ? await provider.oauth2({ timeoutMs: config.providerTimeoutMs }) : provider.oauth2
  const authorize = new URL(oauth2.authorizeUrl)
  const token = new URL(oauth2.tokenUrl)
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
    callbackUri: config.publicUrl + callbackPath(provider.id),
    callbackUriParams: oauth2.authorizeParams ?? {},
    pkce: oauth2.pkce,
    generateStateFunction: () => generateSecret(),
    checkStateFunction: (request: FastifyRequest) => stateMatches(request),
    redirectStateCookieName: STATE_COOKIE,
    verifierCookieName: VERIFIER_COOKIE,
    cookie: danceCookieOptions(config, provider.id),
    userAgent: 'handoff'
  })
}

export const oauthDance = (app: FastifyInstance, providerId: string): OAuth2Namespace =>
  app.getDecorator<OAuth2Namespace>(decoratorName(providerId))
