import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { LoginCodeInvalidError } from '../errors.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { signAccessToken } from '../sessions/tokens.js'
import { redeemLoginCode } from './login-codes.js'
import { ExchangeBodySchema, ExchangeResponses } from './schemas.js'

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies }> = async (app, { config, cookies }) => {
  app.post('/exchange', {
    schema: {
      tags: ['session'],
      summary: 'Trade the one-time code for session cookies',
      description: 'Consumes the code from the handoff redirect (once: a second exchange fails) and sets two HttpOnly cookies: the short-lived access JWT and the refresh token. Unknown, expired and used codes all answer the same 400 `login_code_invalid`.',
      body: ExchangeBodySchema,
      response: ExchangeResponses
    }
  }, async (request, reply) => {
    const result = await redeemLoginCode(app.db.sql, request.body.code, {
      now: app.clock.now(),
      ttlSeconds: config.refreshTokenTtlSeconds,
      userAgent: request.headers['user-agent'],
      ip: request.ip
    })
    if (result === null || result.status !== 'authenticated') throw new LoginCodeInvalidError()
    const { grant } = result
    cookies.set(reply, { accessToken: await signAccessToken(reply, grant.user, grant.sessionId), refreshToken: grant.refreshToken })
    return { status: 'authenticated' as const, user: grant.user }
  })
}
