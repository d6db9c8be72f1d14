import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { RefreshTokenInvalidError, RefreshTokenReusedError, SessionNotFoundError } from '../errors.js'
import { accessCookieSecurity, ErrorRef } from '../schemas/common.js'
import { perMinute } from '../plugins/rate-limit.js'
import type { SessionCookies } from './cookies.js'
import { browserDevice } from './device.js'
import { publicUser } from '../users/public-user.js'
import { signAccessToken } from './access-token-signing.js'
import { authenticateSession, verifyAccessToken } from './guards.js'
import { LogoutQuerySchema, MeSchema, RefreshedSchema, SessionListSchema, SessionParamsSchema } from './schemas.js'
import { listSessions, revokeSession, revokeUserSessions, rotateRefreshToken } from './store.js'

export const sessionRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies }> = async (app, { config, cookies }) => {
  app.get('/me', {
    schema: {
      tags: ['session'],
      summary: 'Who is signed in',
      description: 'Answers from the access cookie alone, without a database query. 401 `not_authenticated` when the cookie is absent, expired or forged (call POST /auth/refresh, then retry), or its session was revoked (logout, a revoked device, a deleted account: refused at once, on every instance).',
      security: accessCookieSecurity,
      response: { 200: MeSchema, 401: ErrorRef }
    }
  }, async (request) => ({ user: publicUser(verifyAccessToken(request)) }))

  app.post('/refresh', {
    schema: {
      tags: ['session'],
      summary: 'Rotate the refresh token and issue a new access token',
      description: 'Reads the refresh cookie (HttpOnly; over plain http sent only to /auth paths). The presented refresh token stops working; new cookies are set. A session ends SESSION_MAX_LIFETIME_SECONDS (90 days by default) after its sign-in however often it is refreshed: the new refresh cookie\'s Max-Age never reaches past that, and afterwards the answer is 401 `refresh_token_invalid` (sign in again). Within REFRESH_REUSE_GRACE_SECONDS of a rotation, the old token presented by the browser that opened the session (its HttpOnly device cookie: two tabs refreshing at once) still gets a new access cookie, without a new refresh cookie (a session opened before device cookies existed adopts the browser of its next refresh, which then gets a device cookie). A rotated token presented later, or by any other browser even within that window, revokes its whole session: 401 `refresh_token_reused`. 401 `refresh_token_invalid` when missing, expired or revoked. Both 401s clear the cookies.',
      response: { 200: RefreshedSchema, 401: ErrorRef, 403: ErrorRef, 429: ErrorRef }
    },
    config: { csrf: true, rateLimit: perMinute(config, config.rateLimits.refreshPerMinute) }
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
      tags: ['session'],
      summary: 'End this session (or, with ?all=true, every session of this user)',
      description: 'Revokes the session of the presented refresh cookie and that of the access cookie (when they differ, both) and clears both cookies; the session\'s access tokens are refused at once, on every instance. `all=true` needs a valid access cookie and revokes every session of the user. Always 204, signed in or not.',
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
      tags: ['session'],
      summary: 'Revoke one of the user\'s sessions (sign out that device)',
      description: 'Its refresh token stops working at once, and its access token is refused at once by every route, on every instance. 404 `session_not_found` when the session is not yours or not active.',
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
