import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import type { Config } from '../config.js'
import { runAfterHook, type HandoffHooks, type LoginEvent } from '../lifecycle-hooks.js'
import { LoginCodeInvalidError } from '../errors.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { ClientKind } from '../sessions/access-claims.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { browserDevice } from '../sessions/device.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { suggestAvailableNickname } from '../users/nickname-availability.js'
import { redeemLoginCode, type RedeemResult } from './login-codes.js'
import { newSessionSeconds, nativeTokens } from '../sessions/native-tokens.js'
import { AuthDescriptions, ExchangeBodySchema, ExchangeResponses, type AuthenticatedSchema, type SignupRequiredSchema } from './schemas.js'

type ExchangeAnswer = Static<typeof AuthenticatedSchema> | Static<typeof SignupRequiredSchema>

interface Answering {
  config: Config
  cookies: SessionCookies
  hooks: HandoffHooks
  client: ClientKind
  /** The session's device secret: the browser's device cookie, or the native app's deviceSecret (if it sent one). */
  device: string | undefined
  method: LoginEvent['method']
}

/**
 * What a redeemed login code answers, for a browser (cookies) or a native app (the same in the JSON
 * body): a session for a returning user, or the pending signup of a first login.
 */
export async function answerRedeemed (app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, result: RedeemResult, { config, cookies, hooks, client, device, method }: Answering): Promise<ExchangeAnswer> {
  if (result.status === 'signup_required') {
    const { profile } = result
    const answer = {
      status: 'signup_required' as const,
      profile: {
        suggestedNickname: await suggestAvailableNickname(app.handoff.db.sql, profile),
        name: profile.name ?? null,
        email: profile.email ?? null,
        avatarUrl: profile.avatarUrl ?? null,
        provider: profile.provider
      }
    }
    if (client === 'native') return { ...answer, signupToken: result.signupToken, signupExpiresIn: config.signupTtlSeconds }
    cookies.setSignup(reply, result.signupToken)
    return answer
  }
  const { grant } = result
  const accessToken = signAccessToken(reply, grant.user, grant.sessionId, client)
  let answer: ExchangeAnswer = { status: 'authenticated' as const, user: grant.user }
  if (client === 'native') {
    answer = { ...answer, tokens: nativeTokens(config, accessToken, { token: grant.refreshToken, expiresInSeconds: newSessionSeconds(config) }) }
  } else {
    cookies.set(reply, { accessToken, refreshToken: grant.refreshToken })
    if (device !== undefined) cookies.setDevice(reply, device)
  }
  await runAfterHook(hooks.onLogin, 'onLogin', { user: grant.user, sessionId: grant.sessionId, method, request })
  return answer
}

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, cookies, hooks }) => {
  app.post('/exchange', {
    schema: {
      operationId: 'exchangeLoginCode',
      tags: ['session'],
      summary: 'Trade the one-time code for session cookies (or, for a native app, tokens)',
      description: AuthDescriptions.exchange,
      body: ExchangeBodySchema,
      response: ExchangeResponses
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.exchangePerMinute) }
  }, async (request, reply) => {
    const client = request.body.client ?? 'browser'
    // A native app proves nothing with cookies: its code is bound to its code_verifier alone.
    const device = client === 'native' ? request.body.deviceSecret : browserDevice(request.cookies[cookies.deviceName])
    const result = await redeemLoginCode(app.handoff.db.sql, request.body.code, {
      now: app.handoff.clock.now(),
      ttlSeconds: config.refreshTokenTtlSeconds,
      maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
      device,
      client,
      signupTtlSeconds: config.signupTtlSeconds,
      proof: {
        bindingSecret: client === 'native' ? undefined : request.cookies[cookies.bindingName],
        codeVerifier: request.body.code_verifier
      },
      userAgent: request.headers['user-agent'],
      ip: request.ip
    })
    if (result === null) throw new LoginCodeInvalidError()
    return answerRedeemed(app, request, reply, result, { config, cookies, hooks, client, device, method: 'exchange' })
  })
}
