import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { providerNotFound } from '../errors.js'
import type { Provider } from '../providers/provider.js'
import { ErrorRef } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { loginCookies } from './login-cookies.js'
import { authorizationUrl } from './oauth-dance.js'
import { AuthDescriptions, LoginQuerySchema, ProviderParamsSchema } from './schemas.js'

export const loginRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.get('/:provider/login', {
    schema: {
      operationId: 'startLogin',
      tags: ['login'],
      summary: 'Start a login: redirect to the provider',
      description: AuthDescriptions.login,
      params: ProviderParamsSchema,
      querystring: LoginQuerySchema,
      response: { 302: { description: 'To the provider\'s authorize URL', type: 'null' }, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw providerNotFound(request.params.provider)
    loginCookies(config, provider.id).remember(reply, { returnTo: request.query.returnTo, codeChallenge: request.query.code_challenge })
    const params = provider.loginParams?.({ promptLogin: request.query.prompt === 'login' })
    return reply.redirect(await authorizationUrl(app, provider.id, request, reply, params), 302)
  })
}
