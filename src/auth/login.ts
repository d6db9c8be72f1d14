import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { ProviderNotFoundError } from '../errors.js'
import type { Provider } from '../providers/provider.js'
import { ErrorRef } from '../schemas/common.js'
import { safeReturnTo } from './handoff.js'
import { danceCookieOptions, oauthDance, RETURN_TO_COOKIE } from './oauth-dance.js'
import { LoginQuerySchema, ProviderParamsSchema } from './schemas.js'

export const loginRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.get('/:provider/login', {
    schema: {
      tags: ['login'],
      summary: 'Start a login: redirect to the provider',
      description: 'Sets the state (and PKCE verifier) cookies for this browser and redirects to the provider\'s authorize page. Open it as a page, not with fetch.',
      params: ProviderParamsSchema,
      querystring: LoginQuerySchema,
      response: { 302: { description: 'To the provider\'s authorize URL', type: 'null' }, 404: ErrorRef }
    }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    const returnTo = safeReturnTo(request.query.returnTo, config.frontendOrigin)
    if (returnTo !== undefined) reply.setCookie(RETURN_TO_COOKIE, returnTo, danceCookieOptions(config, provider.id))
    const authorizationUrl = await oauthDance(app, provider.id).generateAuthorizationUri(request, reply)
    return reply.redirect(authorizationUrl, 302)
  })
}
