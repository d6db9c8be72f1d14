import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { RefreshTokenInvalidError, RefreshTokenReusedError, SessionNotFoundError } from '../errors.js'
import { accessCookieSecurity, ErrorRef, refreshCookieSecurity } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { SessionCookies } from './cookies.js'
import { browserDevice } from './device.js'
import { publicUser } from '../users/public-user.js'
import { signAccessToken } from './access-token-signing.js'
import { authenticateSession, verifyAccessToken } from './guards.js'
import { logoutSecurity, LogoutQuerySchema, MeSchema, RefreshedSchema, SessionDescriptions, SessionListSchema, SessionParamsSchema } from './schemas.js'
import { listSessions, revokeSession, revokeUserSessions, rotateRefreshToken } from './store.js'

export const sessionRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies }> = async (app, { config, cookies }) => {
  app.get('/me', {
    schema: {
      operationId: 'getCurrentUser',
      tags: ['session'],
      summary: 'Who is signed in',
      description: SessionDescriptions.me,
      security: accessCookieSecurity,
      response: { 200: MeSchema, 401: ErrorRef }
    }
  }, async (request) => ({ user: publicUser(verifyAccessToken(request)) }))

  app.post('/refresh', {
    schema: {
      operationId: 'refreshSession',
      tags: ['session'],
      summary: 'Rotate the refresh token and issue a new access token',
      description: SessionDescriptions.refresh,
      security: refreshCookieSecurity,
      response: { 200: RefreshedSchema, 401: ErrorRef, 403: ErrorRef, 429: ErrorRef }
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.refreshPerMinute) }
  }, async (request, reply) => {
    const presented = request.cookies[cookies.refreshName]
    const presentedDevice = request.cookies[cookies.deviceName]
    // A browser without a (well-formed) device cookie gets one, which a session without a device adopts.
    const device = browserDevice(presentedDevice)
    const now = app.handoff.clock.now()
    const result = presented === undefined || presented === ''
      ? { status: 'invalid' as const }
      : await rotateRefreshToken(app.handoff.db.sql, presented, {
        now,
        ttlSeconds: config.refreshTokenTtlSeconds,
        maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
        graceSeconds: config.refreshReuseGraceSeconds,
        device,
        revoke: end => app.handoff.sessionRevocations.revoke(request, 'reuse_detected', end)
      })
    if (result.status === 'invalid' || result.status === 'reused') {
      cookies.clear(reply)
      if (result.status === 'reused') request.log.warn({ userId: result.userId, sessionId: result.sessionId }, 'refresh: rotated token reused, session revoked')
      throw result.status === 'reused' ? new RefreshTokenReusedError() : new RefreshTokenInvalidError()
    }
    const { grant } = result
    const accessToken = signAccessToken(reply, grant.user, grant.sessionId)
    if (result.status === 'rotated') {
      const secondsLeft = Math.floor((result.expiresAt.getTime() - now.getTime()) / 1000)
      cookies.set(reply, { accessToken, refreshToken: result.grant.refreshToken, refreshMaxAge: secondsLeft })
      if (result.sessionDevice && device !== presentedDevice) cookies.setDevice(reply, device)
    } else {
      request.log.info({ userId: grant.user.id, sessionId: grant.sessionId }, 'refresh: rotated token presented again within the grace window by the same browser')
      cookies.setAccess(reply, accessToken)
    }
    return { status: 'refreshed' as const, user: grant.user }
  })

  app.post('/logout', {
    schema: {
      operationId: 'logout',
      tags: ['session'],
      summary: 'End this session (or, with ?all=true, every session of this user)',
      description: SessionDescriptions.logout,
      security: logoutSecurity,
      querystring: LogoutQuerySchema,
      response: { 204: { type: 'null', description: 'Signed out' }, 403: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const refreshToken = request.cookies[cookies.refreshName]
    const user = (() => { try { return verifyAccessToken(request) } catch { return null } })()
    const { sql } = app.handoff.db
    if (request.query.all === true && user !== null) {
      await app.handoff.sessionRevocations.revoke(request, 'logout_all', record => revokeUserSessions(sql, user.id, record))
    } else {
      const byRefresh = refreshToken !== undefined && refreshToken !== ''
        ? await app.handoff.sessionRevocations.revoke(request, 'logout', record => revokeSession(sql, { refreshToken }, record))
        : null
      // The refresh cookie may be stale (purged, or of an older session of this browser): the
      // access cookie's session ends too, or its token would keep working until it expires.
      if (user !== null && byRefresh?.sessionIds.includes(user.sessionId) !== true) {
        await app.handoff.sessionRevocations.revoke(request, 'logout', record => revokeSession(sql, { sessionId: user.sessionId }, record))
      }
    }
    cookies.clear(reply)
    return reply.code(204).send(null)
  })

  app.get('/sessions', {
    preHandler: authenticateSession,
    schema: {
      operationId: 'listSessions',
      tags: ['session'],
      summary: 'The signed-in user\'s active sessions (devices)',
      security: accessCookieSecurity,
      response: { 200: SessionListSchema, 401: ErrorRef }
    }
  }, async request => {
    const sessions = await listSessions(app.handoff.db.sql, request.user.id, app.handoff.clock.now())
    return { sessions: sessions.map(session => ({ ...session, current: session.id === request.user.sessionId })) }
  })

  app.delete('/sessions/:id', {
    preHandler: authenticateSession,
    schema: {
      operationId: 'revokeSession',
      tags: ['session'],
      summary: 'Revoke one of the user\'s sessions (sign out that device)',
      description: SessionDescriptions.revoke,
      security: accessCookieSecurity,
      params: SessionParamsSchema,
      response: { 204: { type: 'null', description: 'Revoked' }, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const revoked = await app.handoff.sessionRevocations.revoke(request, 'revoked', record =>
      revokeSession(app.handoff.db.sql, { sessionId: request.params.id, userId: request.user.id }, record))
    if (revoked === null) throw new SessionNotFoundError()
    if (request.params.id === request.user.sessionId) cookies.clear(reply)
    return reply.code(204).send(null)
  })
}
