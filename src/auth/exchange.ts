import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { runAfterHook, type HandoffHooks } from '../lifecycle-hooks.js'
import { LoginCodeInvalidError } from '../errors.js'
import { perMinute } from '../plugins/rate-limit.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { browserDevice } from '../sessions/device.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { suggestAvailableNickname } from '../users/availability.js'
import { redeemLoginCode } from './login-codes.js'
import { ExchangeBodySchema, ExchangeResponses } from './schemas.js'

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, cookies, hooks }) => {
  app.post('/exchange', {
    schema: {
      tags: ['session'],
      summary: 'Trade the one-time code for session cookies',
      description: 'Consumes the code from the handoff redirect (once: a second exchange fails). A returning user gets `{ status: "authenticated", user }` and two HttpOnly cookies: the short-lived access JWT and the refresh token (plus the browser\'s device cookie, kept if it has one: see POST /auth/refresh). A first-time user gets `{ status: "signup_required", profile }` and a short-lived HttpOnly signup cookie instead: continue with POST /auth/signup. Unknown, expired and used codes all answer the same 400 `login_code_invalid`.',
      body: ExchangeBodySchema,
      response: ExchangeResponses
    },
    config: { csrf: true, rateLimit: perMinute(config, config.rateLimits.exchangePerMinute) }
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
