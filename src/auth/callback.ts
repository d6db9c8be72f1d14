import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError, ProviderNotFoundError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { Provider } from '../providers/provider.js'
import { tokensFromReply } from '../providers/provider-tokens.js'
import { ErrorRef } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { completeLogin } from './complete-login.js'
import { redirectToFrontend, redirectWithLoginError, type LoginOutcome } from './handoff.js'
import { completeLink, verifyLinkingSession } from './link.js'
import { callbackPath, loginCookies, type RememberedLogin } from './login-cookies.js'
import { nonceFor, requestTokens } from './oauth-dance.js'
import { AuthDescriptions, CallbackQuerySchema, ProviderParamsSchema } from './schemas.js'

export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider>, hooks: HandoffHooks }> = async (app, { config, providers, hooks }) => {
  async function runCallback (provider: Provider, login: RememberedLogin, request: FastifyRequest, reply: FastifyReply): Promise<LoginOutcome> {
    // State first: an error or a code that did not start in this browser is not ours to act on.
    const { error, code, state } = request.query as Static<typeof CallbackQuerySchema> & { state: string }
    if (!loginCookies(config, provider.id).stateMatches(request, state)) throw new LoginFlowError(LoginErrorCode.invalidState, 'state is missing or does not match this browser\'s login')
    if (error !== undefined) {
      throw provider.callbackError?.(request.query as Record<string, unknown>) ??
        new LoginFlowError(error === 'access_denied' ? LoginErrorCode.accessDenied : LoginErrorCode.providerError, `${provider.displayName} returned error "${error}"`)
    }
    if (code === undefined || code === '') throw new LoginFlowError(LoginErrorCode.invalidCallback, 'callback has neither code nor error')

    const context = { timeoutMs: config.providerTimeoutMs }
    const tokenReply = provider.exchangeCode === undefined
      ? await requestTokens(app, provider, request, reply)
      : await provider.exchangeCode({ code, state, redirectUri: config.publicUrl + callbackPath(config, provider.id), codeVerifier: login.codeVerifier }, context)
    const accessToken = provider.readAccessToken(tokenReply)
    const profile = await provider.fetchProfile(accessToken, { ...context, tokenReply, nonce: nonceFor(state) })
    // An identity is (provider, id), and providers may come from the host app: a profile naming
    // another provider would sign in as one of its users.
    if (profile.provider !== provider.id) throw new LoginFlowError(LoginErrorCode.serverError, `provider ${provider.id} returned a profile of provider "${String(profile.provider)}"`)
    if (typeof profile.providerUserId !== 'string' || profile.providerUserId === '') throw new LoginFlowError(LoginErrorCode.providerProfileError, `${provider.displayName} profile has no user id`)
    // Kept (sealed) for later calls: app.handoff.providerAccessToken, the grant's revocation.
    const tokens = tokensFromReply(tokenReply, app.handoff.clock.now())
    if (login.linkSessionId !== undefined) {
      await completeLink(app, request, hooks, verifyLinkingSession(request, login.linkSessionId), profile, tokens)
      return { linked: provider.id }
    }
    return { code: await completeLogin(app, hooks, request, reply, { profile, tokens, codeChallenge: login.codeChallenge, linkByVerifiedEmail: provider.linkByVerifiedEmail === true }) }
  }

  app.get('/:provider/callback', {
    schema: {
      operationId: 'handleProviderCallback',
      tags: ['login'],
      summary: 'Provider callback: redirect to the frontend with a one-time code',
      description: AuthDescriptions.callback,
      params: ProviderParamsSchema,
      querystring: CallbackQuerySchema,
      response: { 302: { description: 'To the frontend, with `code` or `error`', type: 'null' }, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    const login = loginCookies(config, provider.id).take(request, reply)
    try {
      const outcome = await runCallback(provider, login, request, reply)
      return redirectToFrontend(reply, config, { ...outcome, returnTo: login.returnTo })
    } catch (error) {
      return redirectWithLoginError(request, reply, config, provider.id, error)
    }
  })
}
