import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'
import type { Config } from '../config.js'
import { CodeChallengeRequiredError, providerNotFound, RedirectUriNotAllowedError } from '../errors.js'
import type { Provider } from '../providers/provider.js'
import { ErrorRef } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { loginCookies, type LoginRequest } from './login-cookies.js'
import { matchNativeRedirect } from './native-redirect.js'
import { authorizationUrl } from './oauth-dance.js'
import { AuthDescriptions, LoginQuerySchema, ProviderParamsSchema } from './schemas.js'

/**
 * What a login start asks of its callback, from its query. With `redirect_uri` it is a native app's
 * (RFC 8252): the URI must be listed in NATIVE_REDIRECT_URIS (else 400, and nothing redirects there)
 * and PKCE is mandatory, so a code caught by another app on the same scheme is useless to it. Checked
 * before any cookie is set.
 */
export function loginRequest (config: Config, query: Static<typeof LoginQuerySchema>): LoginRequest {
  const { returnTo, code_challenge: codeChallenge, code_challenge_method: method, redirect_uri: redirectUri, state } = query
  if (redirectUri === undefined) return { returnTo, codeChallenge }
  const listed = matchNativeRedirect(config.nativeRedirectUris, redirectUri)
  if (listed === undefined) throw new RedirectUriNotAllowedError()
  if (codeChallenge === undefined || method !== 'S256') throw new CodeChallengeRequiredError()
  return { codeChallenge, native: { redirectUri: listed, state } }
}

export const loginRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.get('/:provider/login', {
    schema: {
      operationId: 'startLogin',
      tags: ['login'],
      summary: 'Start a login: redirect to the provider',
      description: AuthDescriptions.login,
      params: ProviderParamsSchema,
      querystring: LoginQuerySchema,
      response: { 302: { description: 'To the provider\'s authorize URL', type: 'null' }, 400: ErrorRef, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw providerNotFound(request.params.provider)
    loginCookies(config, provider.id).remember(reply, loginRequest(config, request.query))
    const params = provider.loginParams?.({ promptLogin: request.query.prompt === 'login' })
    return reply.redirect(await authorizationUrl(app, provider.id, request, reply, params), 302)
  })
}
