import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { runAfterHook, type HandoffHooks } from '../lifecycle-hooks.js'
import { LoginCodeInvalidError } from '../errors.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { browserDevice } from '../sessions/device.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { suggestAvailableNickname } from '../users/nickname-availability.js'
import { redeemLoginCode } from './login-codes.js'
import { AuthDescriptions, ExchangeBodySchema, ExchangeResponses } from './schemas.js'

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, cookies, hooks }) => {
  app.post('/exchange', {
    schema: {
      operationId: 'exchangeLoginCode',
      tags: ['session'],
      summary: 'Trade the one-time code for session cookies',
      description: AuthDescriptions.exchange,
      body: ExchangeBodySchema,
      response: ExchangeResponses
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.exchangePerMinute) }
  }, async (request, reply) => {
    const device = browserDevice(request.cookies[cookies.deviceName])
    const result = await redeemLoginCode(app.handoff.db.sql, request.body.code, {
      now: app.handoff.clock.now(),
      ttlSeconds: config.refreshTokenTtlSeconds,
      maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
      device,
      signupTtlSeconds: config.signupTtlSeconds,
      proof: { bindingSecret: request.cookies[cookies.bindingName], codeVerifier: request.body.code_verifier },
      userAgent: request.headers['user-agent'],
      ip: request.ip
    })
    if (result === null) throw new LoginCodeInvalidError()
    if (result.status === 'signup_required') {
      const { profile } = result
      cookies.setSignup(reply, result.signupToken)
      return {
        status: 'signup_required' as const,
        profile: {
          suggestedNickname: await suggestAvailableNickname(app.handoff.db.sql, profile),
          name: profile.name ?? null,
          email: profile.email ?? null,
          avatarUrl: profile.avatarUrl ?? null,
          provider: profile.provider
        }
      }
    }
    const { grant } = result
    cookies.set(reply, { accessToken: signAccessToken(reply, grant.user, grant.sessionId), refreshToken: grant.refreshToken })
    cookies.setDevice(reply, device)
    await runAfterHook(hooks.onLogin, 'onLogin', { user: grant.user, sessionId: grant.sessionId, method: 'exchange', request })
    return { status: 'authenticated' as const, user: grant.user }
  })
}
