import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { RefreshTokenInvalidError } from '../errors.js'
import { accessCookieSecurity, ErrorRef } from '../schemas/common.js'
import type { SessionCookies } from './cookies.js'
import { revokeSession, rotateRefreshToken } from './refresh.js'
import { MeSchema, RefreshedSchema } from './schemas.js'
import { publicUser, signAccessToken, verifyAccessToken } from './tokens.js'

export const sessionRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies }> = async (app, { config, cookies }) => {
  app.get('/me', {
    schema: {
      tags: ['session'],
      summary: 'Who is signed in',
      description: 'Answers from the access cookie alone, without a database query. 401 `not_authenticated` when the cookie is absent, expired or forged: call POST /auth/refresh, then retry.',
      security: accessCookieSecurity,
      response: { 200: MeSchema, 401: ErrorRef }
    }
  }, async (request) => {
    return { user: publicUser(await verifyAccessToken(request)) }
  })

  app.post('/refresh', {
    schema: {
      tags: ['session'],
      summary: 'Rotate the refresh token and issue a new access token',
      description: 'Reads the refresh cookie (sent only to /auth paths). The presented refresh token stops working; new cookies are set. 401 `refresh_token_invalid` (and both cookies cleared) when it is missing, expired, used or revoked.',
      response: { 200: RefreshedSchema, 401: ErrorRef }
    }
  }, async (request, reply) => {
    const presented = request.cookies[cookies.refreshName]
    const grant = presented === undefined || presented === ''
      ? null
      : await rotateRefreshToken(app.db.sql, presented, { now: app.clock.now(), ttlSeconds: config.refreshTokenTtlSeconds })
    if (grant === null) {
      cookies.clear(reply)
      throw new RefreshTokenInvalidError()
    }
    cookies.set(reply, { accessToken: await signAccessToken(reply, grant.user, grant.sessionId), refreshToken: grant.refreshToken })
    return { status: 'refreshed' as const, user: grant.user }
  })

  app.post('/logout', {
    schema: {
      tags: ['session'],
      summary: 'End this session',
      description: 'Revokes the session of the presented refresh cookie (or, failing that, of the access cookie) and clears both cookies. Always 204, signed in or not.',
      response: { 204: { type: 'null', description: 'Signed out' } }
    }
  }, async (request, reply) => {
    const refreshToken = request.cookies[cookies.refreshName]
    const now = app.clock.now()
    if (refreshToken !== undefined && refreshToken !== '') {
      await revokeSession(app.db.sql, { refreshToken }, now)
    } else {
      const user = await verifyAccessToken(request).catch(() => null)
      if (user !== null) await revokeSession(app.db.sql, { sessionId: user.sessionId }, now)
    }
    cookies.clear(reply)
    return reply.code(204).send(null)
  })
}
