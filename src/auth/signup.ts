import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { runAfterHook, userCreatedCallback, type HandoffHooks } from '../lifecycle-hooks.js'
import { nicknameRefused, SignupInvalidError } from '../errors.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { ErrorRef, signupCookieSecurity } from '../schemas/common.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { browserDevice } from '../sessions/device.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { completeSignup } from '../users/create-user.js'
import { checkNickname } from '../users/nicknames.js'
import { newSessionSeconds, nativeTokens } from '../sessions/native-tokens.js'
import { AuthDescriptions, AuthenticatedSchema, SignupBodySchema } from './schemas.js'

export const signupRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, cookies, hooks }) => {
  app.post('/signup', {
    schema: {
      operationId: 'completeSignup',
      tags: ['signup'],
      summary: 'Create the account of a first-time user with the chosen nickname',
      description: AuthDescriptions.signup,
      security: signupCookieSecurity,
      body: SignupBodySchema,
      response: { 200: AuthenticatedSchema, 201: AuthenticatedSchema, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 409: ErrorRef, 429: ErrorRef, 500: ErrorRef }
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.exchangePerMinute) }
  }, async (request, reply) => {
    // A native app's signup token comes in the body, a browser's in its cookie: each is refused from the other's place.
    const client = request.body.signupToken === undefined ? 'browser' : 'native'
    const signupToken = client === 'native' ? request.body.signupToken : request.cookies[cookies.signupName]
    if (signupToken === undefined || signupToken === '') throw new SignupInvalidError()
    const nickname = checkNickname(request.body.nickname)
    if (!nickname.valid) throw nicknameRefused(nickname)

    const device = client === 'native' ? request.body.deviceSecret : browserDevice(request.cookies[cookies.deviceName])
    const result = await completeSignup(app.handoff.db.sql, signupToken, nickname, {
      now: app.handoff.clock.now(),
      ttlSeconds: config.refreshTokenTtlSeconds,
      maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
      device,
      client,
      userAgent: request.headers['user-agent'],
      ip: request.ip
    }, userCreatedCallback(hooks, request))
    if (result.status === 'no_pending_signup') {
      if (client === 'browser') cookies.clearSignup(reply)
      throw new SignupInvalidError()
    }
    const { grant } = result
    const accessToken = signAccessToken(reply, grant.user, grant.sessionId, client)
    const status = result.status === 'created' ? 201 : 200
    await runAfterHook(hooks.onLogin, 'onLogin', { user: grant.user, sessionId: grant.sessionId, method: 'signup', request })
    if (client === 'native') {
      const tokens = nativeTokens(config, accessToken, { token: grant.refreshToken, expiresInSeconds: newSessionSeconds(config) })
      return reply.code(status).send({ status: 'authenticated' as const, user: grant.user, tokens })
    }
    cookies.clearSignup(reply)
    cookies.set(reply, { accessToken, refreshToken: grant.refreshToken })
    if (device !== undefined) cookies.setDevice(reply, device)
    return reply.code(status).send({ status: 'authenticated' as const, user: grant.user })
  })
}
