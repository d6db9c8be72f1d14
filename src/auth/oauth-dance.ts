import { createHash } from 'node:crypto'
import fastifyOauth2, { type OAuth2Namespace } from '@fastify/oauth2'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { Provider } from '../providers/provider.js'
import { generateSecret, safeEqual } from '../secrets.js'
import { callbackPath, loginCookies, type LoginCookies } from './login-cookies.js'

// @fastify/oauth2 drives the dance: the state and PKCE verifier cookies (named and flagged by
// login-cookies.ts), the authorize URL and the token exchange (simple-oauth2). One registration per
// enabled provider, inside the auth plugin.

/** The state in the query must equal the one this browser got as a cookie at login (login CSRF). */
export function stateMatches (request: FastifyRequest, cookies: LoginCookies): boolean {
  const state = (request.query as { state?: unknown }).state
  const expected = cookies.read(request, 'state')
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
    callbackUriParams: oauth2.authorizeParams ?? {},
    pkce: oauth2.pkce,
    generateStateFunction: () => generateSecret(),
    checkStateFunction: (request: FastifyRequest) => stateMatches(request, cookies),
    redirectStateCookieName: cookies.names.state,
    verifierCookieName: cookies.names.verifier,
    cookie: cookies.options,
    userAgent: 'handoff'
  })
}

export const oauthDance = (app: FastifyInstance, providerId: string): OAuth2Namespace =>
  app.getDecorator<OAuth2Namespace>(decoratorName(providerId))
