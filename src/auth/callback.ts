import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError, ProviderNotFoundError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { Provider } from '../providers/provider.js'
import { ErrorRef } from '../schemas/common.js'
import { perMinute } from '../plugins/rate-limit.js'
import { completeLogin, redirectToFrontend } from './complete-login.js'
import { completeLink, linkingSession } from './link.js'
import { callbackPath, loginCookies } from './login-cookies.js'
import { nonceFor, oauthDance, stateMatches } from './oauth-dance.js'
import { CallbackQuerySchema, ProviderParamsSchema } from './schemas.js'

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

export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider>, hooks: HandoffHooks }> = async (app, { config, providers, hooks }) => {
  async function runCallback (provider: Provider, request: FastifyRequest, reply: FastifyReply): Promise<string | { linked: string }> {
    // State first: an error or a code that did not start in this browser is not ours to act on.
    const cookies = loginCookies(config, provider.id)
    if (!stateMatches(request, cookies)) throw new LoginFlowError(LoginErrorCode.invalidState, 'state is missing or does not match this browser\'s login')
    const { error, code, state } = request.query as Static<typeof CallbackQuerySchema> & { state: string }
    if (error !== undefined) {
      throw provider.callbackError?.(request.query as Record<string, unknown>) ??
        new LoginFlowError(error === 'access_denied' ? LoginErrorCode.accessDenied : LoginErrorCode.providerError, `${provider.displayName} returned error "${error}"`)
    }
    if (code === undefined || code === '') throw new LoginFlowError(LoginErrorCode.invalidCallback, 'callback has neither code nor error')

    const context = { timeoutMs: config.providerTimeoutMs }
    let tokenReply: Record<string, unknown>
    if (provider.exchangeCode !== undefined) {
      tokenReply = await provider.exchangeCode({ code, state, redirectUri: config.publicUrl + callbackPath(config, provider.id), codeVerifier: cookies.read(request, 'verifier') }, context)
    } else {
      try {
        tokenReply = (await oauthDance(app, provider.id).getAccessTokenFromAuthorizationCodeFlow(request, reply)).token as unknown as Record<string, unknown>
      } catch (failure) {
        throw tokenExchangeError(provider, failure)
      }
    }
    const accessToken = provider.readAccessToken(tokenReply)
    const profile = await provider.fetchProfile(accessToken, { ...context, tokenReply, nonce: nonceFor(state) })
    const link = linkingSession(request, cookies)
    if (link !== undefined) {
      await completeLink(app, request, hooks, link, profile)
      return { linked: provider.id }
    }
    return completeLogin(app, request, reply, profile, hooks)
  }

  app.get('/:provider/callback', {
    schema: {
      tags: ['login'],
      summary: 'Provider callback: redirect to the frontend with a one-time code',
      description: 'Called by the provider, never by the frontend. Checks the state, exchanges the provider code, finds or creates the user, and redirects to FRONTEND_URL with `code=<one-time code>` (and `returnTo`) in the fragment (or query, with HANDOFF_CODE_IN=query). On failure it redirects there with `error=<code>`: ' +
        Object.values(LoginErrorCode).map(value => `\`${value}\``).join(', ') + '.',
      params: ProviderParamsSchema,
      querystring: CallbackQuerySchema,
      response: { 302: { description: 'To the frontend, with `code` or `error`', type: 'null' }, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    return redirectToFrontend(request, reply, config, provider.id, () => runCallback(provider, request, reply))
  })
}
