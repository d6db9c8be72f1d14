import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { ProviderNotFoundError } from '../errors.js'
import type { Provider } from '../providers/provider.js'
import { ErrorRef } from '../schemas/common.js'
import { perMinute } from '../plugins/rate-limit.js'
import { loginCookies } from './login-cookies.js'
import { authorizationUrl } from './oauth-dance.js'
import { LoginQuerySchema, ProviderParamsSchema } from './schemas.js'

export const loginRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.get('/:provider/login', {
    schema: {
      tags: ['login'],
      summary: 'Start a login: redirect to the provider',
      description: 'Sets the state (and PKCE verifier) cookies for this browser and redirects to the provider\'s authorize page. Open it as a page, not with fetch. The one-time code this login ends with is bound to this browser by an HttpOnly cookie; a frontend on another site, where that cookie cannot reach POST /auth/exchange, passes `code_challenge` (S256) here and `code_verifier` to the exchange instead.',
      params: ProviderParamsSchema,
      querystring: LoginQuerySchema,
      response: { 302: { description: 'To the provider\'s authorize URL', type: 'null' }, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    loginCookies(config, provider.id).remember(reply, { returnTo: request.query.returnTo, codeChallenge: request.query.code_challenge })
    return reply.redirect(await authorizationUrl(app, provider.id, request, reply), 302)
  })
}
