import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import type { Config, ProfileField } from '../config.js'
import { LoginErrorCode, LoginFlowError, providerNotFound } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { Provider } from '../providers/provider.js'
import { tokensFromReply } from '../providers/provider-tokens.js'
import { ErrorRef } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { completeLogin } from './complete-login.js'
import { askAgainForConsent, missingFields } from './consent-repair.js'
import { isRelayed, sendFormPostRelay } from './form-post-relay.js'
import { redirectToFrontend, redirectWithCode, redirectWithLoginError, type LoginOutcome } from './handoff.js'
import { completeLink, verifyLinkingSession } from './link.js'
import { callbackPath, loginCookies, type RememberedLogin } from './login-cookies.js'
import { nonceFor, requestTokens } from './oauth-dance.js'
import { AuthDescriptions, CALLBACK_FORM_FIELDS, CallbackFormSchema, CallbackQuerySchema, ProviderParamsSchema } from './schemas.js'

type CallbackParams = Static<typeof CallbackQuerySchema> & Record<string, unknown>

/** A login that ends here, or whose profile lacks required fields the provider should be asked for again. */
type CallbackOutcome = LoginOutcome | { askAgain: ProfileField[] }

export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider>, hooks: HandoffHooks }> = async (app, { config, providers, hooks }) => {
  /** `params`: the callback's query, or a form_post provider's form. */
  async function runCallback (provider: Provider, login: RememberedLogin, params: CallbackParams, request: FastifyRequest, reply: FastifyReply): Promise<CallbackOutcome> {
    // State first: an error or a code that did not start in this browser is not ours to act on.
    const { error, code } = params
    const state = params.state as string
    if (!loginCookies(config, provider.id).stateMatches(request, state)) throw new LoginFlowError(LoginErrorCode.invalidState, 'state is missing or does not match this browser\'s login')
    if (error !== undefined) {
      // Declining the consent screen of a repair round leaves the fields missing, and says so.
      if (error === 'access_denied' && login.consentRepair !== undefined) throw consentMissing(provider, login.consentRepair, 'declined when asked again')
      throw provider.callbackError?.(params) ??
        new LoginFlowError(error === 'access_denied' ? LoginErrorCode.accessDenied : LoginErrorCode.providerError, `${provider.displayName} returned error "${error}"`)
    }
    if (code === undefined || code === '') throw new LoginFlowError(LoginErrorCode.invalidCallback, 'callback has neither code nor error')

    const context = { timeoutMs: config.providerTimeoutMs }
    const tokenReply = provider.exchangeCode === undefined
      ? await requestTokens(app, provider, request, reply)
      : await provider.exchangeCode({ code, state, redirectUri: config.publicUrl + callbackPath(config, provider.id), codeVerifier: login.codeVerifier }, context)
    const accessToken = provider.readAccessToken(tokenReply)
    const profile = await provider.fetchProfile(accessToken, { ...context, tokenReply, nonce: nonceFor(state), callbackParams: params })
    // An identity is (provider, id), and providers may come from the host app: a profile naming
    // another provider would sign in as one of its users.
    if (profile.provider !== provider.id) throw new LoginFlowError(LoginErrorCode.serverError, `provider ${provider.id} returned a profile of provider "${String(profile.provider)}"`)
    if (typeof profile.providerUserId !== 'string' || profile.providerUserId === '') throw new LoginFlowError(LoginErrorCode.providerProfileError, `${provider.displayName} profile has no user id`)
    const missing = missingFields(profile, provider.requiredFields ?? [])
    if (missing.length > 0) {
      if (login.consentRepair !== undefined) throw consentMissing(provider, missing, 'still missing after asking again')
      return { askAgain: missing }
    }
    // Kept (sealed) for later calls: app.handoff.providerAccessToken, the grant's revocation.
    const tokens = tokensFromReply(tokenReply, app.handoff.clock.now())
    if (login.linkSessionId !== undefined) {
      await completeLink(app, request, hooks, verifyLinkingSession(request, login.linkSessionId), profile, tokens)
      return { linked: provider.id }
    }
    // A native app's login was started with PKCE; a challenge cookie gone missing is not to be replaced by the browser's binding.
    if (login.native !== undefined && login.codeChallenge === undefined) throw new LoginFlowError(LoginErrorCode.invalidState, 'native login without its code_challenge')
    const client = login.native === undefined ? 'browser' : 'native'
    return { code: await completeLogin(app, hooks, request, reply, { profile, tokens, codeChallenge: login.codeChallenge, linkByVerifiedEmail: provider.linkByVerifiedEmail === true, client }) }
  }

  app.get('/:provider/callback', {
    schema: {
      operationId: 'handleProviderCallback',
      tags: ['login'],
      summary: 'Provider callback: redirect to the frontend with a one-time code',
      description: AuthDescriptions.callback,
      params: ProviderParamsSchema,
      querystring: CallbackQuerySchema,
      response: { 302: { description: 'To the frontend (or the native app\'s redirect_uri), with `code` or `error`; or, once, back to the provider to ask for a required profile field again', type: 'null' }, 404: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw providerNotFound(request.params.provider)
    const login = loginCookies(config, provider.id).take(request, reply)
    try {
      const outcome = await runCallback(provider, login, request.query, request, reply)
      if ('askAgain' in outcome) return await askAgainForConsent(app, config, provider, login, outcome.askAgain, request, reply)
      if ('code' in outcome) return redirectWithCode(reply, config, outcome.code, login)
      return redirectToFrontend(reply, config, { ...outcome, returnTo: login.returnTo })
    } catch (error) {
      return redirectWithLoginError(request, reply, config, provider.id, error, login.native)
    }
  })

  // The POST callback exists only while a form_post provider (Apple) is enabled.
  if (![...providers.values()].some(provider => provider.oauth2.responseMode === 'form_post')) return
  // A host app that parses forms already lends us its parser: a second one would throw.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody)

  app.post('/:provider/callback', {
    schema: {
      operationId: 'handleProviderFormPostCallback',
      tags: ['login'],
      summary: 'A form_post provider\'s callback (Apple): relayed once from this origin, then like the GET callback',
      description: AuthDescriptions.formPostCallback,
      consumes: ['application/x-www-form-urlencoded'],
      params: ProviderParamsSchema,
      body: CallbackFormSchema,
      response: {
        200: { description: 'The relay page: posts the same fields again from this origin', content: { 'text/html': { schema: { type: 'string' } } } },
        302: { description: 'To the frontend (or the native app\'s redirect_uri), with `code` or `error`', type: 'null' },
        404: ErrorRef,
        429: ErrorRef
      }
    },
    // A malformed form still ends on the frontend, like every browser step.
    attachValidation: true,
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined || provider.oauth2.responseMode !== 'form_post') throw providerNotFound(request.params.provider)
    const cookies = loginCookies(config, provider.id)
    const form = (request.body ?? {}) as CallbackParams
    // Straight from the provider's site, the browser sent no Lax cookie: post it again from here
    // (form-post-relay.ts). Only once, and never a form that breaks the schema.
    if (request.validationError === undefined && !isRelayed(form) && !cookies.stateMatches(request, form.state)) {
      const fields = Object.fromEntries(CALLBACK_FORM_FIELDS.flatMap(name => typeof form[name] === 'string' ? [[name, form[name] as string]] : []))
      return sendFormPostRelay(reply, callbackPath(config, provider.id), fields)
    }
    const login = cookies.take(request, reply)
    try {
      if (request.validationError !== undefined) throw new LoginFlowError(LoginErrorCode.invalidCallback, `${provider.displayName} callback form: ${request.validationError.message}`)
      const outcome = await runCallback(provider, login, form, request, reply)
      if ('askAgain' in outcome) return await askAgainForConsent(app, config, provider, login, outcome.askAgain, request, reply)
      if ('code' in outcome) return redirectWithCode(reply, config, outcome.code, login)
      return redirectToFrontend(reply, config, { ...outcome, returnTo: login.returnTo })
    } catch (error) {
      return redirectWithLoginError(request, reply, config, provider.id, error, login.native)
    }
  })
}

function consentMissing (provider: Provider, missing: ProfileField[], why: string): LoginFlowError {
  return new LoginFlowError(LoginErrorCode.providerConsentMissing, `${provider.displayName} profile lacks required ${missing.join(', ')}: ${why}`, { missing })
}
