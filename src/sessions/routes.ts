import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { RefreshTokenInvalidError, RefreshTokenReusedError, SessionNotFoundError } from '../errors.js'
import { accessTokenSecurity, emptyBodyWhenAbsent, ErrorRef, refreshCookieSecurity } from '../schemas/common.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { SessionCookies } from './cookies.js'
import { browserDevice } from './device.js'
import { publicUser } from '../users/public-user.js'
import { signAccessToken } from './access-token-signing.js'
import { authenticateSession, verifyAccessToken } from './guards.js'
import { kakaoLogoutUrl } from '../providers/kakao-account.js'
import { nativeTokens } from './native-tokens.js'
import { logoutSecurity, LogoutBodySchema, LogoutQuerySchema, MeSchema, ProviderLogoutSchema, RefreshBodySchema, RefreshedSchema, SessionDescriptions, SessionListSchema, SessionParamsSchema } from './schemas.js'
import { listSessions, revokeSession, revokeUserSessions, rotateRefreshToken, sessionSignInProvider } from './store.js'

const secondsUntil = (end: Date, now: Date): number => Math.floor((end.getTime() - now.getTime()) / 1000)

export const sessionRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies }> = async (app, { config, cookies }) => {
  app.get('/me', {
    schema: {
      operationId: 'getCurrentUser',
      tags: ['session'],
      summary: 'Who is signed in',
      description: SessionDescriptions.me,
      security: accessTokenSecurity,
      response: { 200: MeSchema, 401: ErrorRef }
    }
  }, async (request) => ({ user: publicUser(verifyAccessToken(request)) }))

  app.post('/refresh', {
    preValidation: emptyBodyWhenAbsent,
    schema: {
      operationId: 'refreshSession',
      tags: ['session'],
      summary: 'Rotate the refresh token and issue a new access token',
      description: SessionDescriptions.refresh,
      security: refreshCookieSecurity,
      body: RefreshBodySchema,
      response: { 200: RefreshedSchema, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 429: ErrorRef }
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.refreshPerMinute) }
  }, async (request, reply) => {
    // A native app's token comes in the body, a browser's in its cookie; the store refuses each from the other's place.
    const client = request.body.refreshToken === undefined ? 'browser' : 'native'
    const presented = client === 'native' ? request.body.refreshToken : request.cookies[cookies.refreshName]
    const presentedDevice = client === 'native' ? request.body.deviceSecret : request.cookies[cookies.deviceName]
    // A browser without a (well-formed) device cookie gets one, which a session without a device
    // adopts; a native app names its install with deviceSecret, or has no grace window.
    const device = client === 'native' ? presentedDevice : browserDevice(presentedDevice)
    const now = app.handoff.clock.now()
    const result = presented === undefined || presented === ''
      ? { status: 'invalid' as const }
      : await rotateRefreshToken(app.handoff.db.sql, presented, {
        now,
        ttlSeconds: config.refreshTokenTtlSeconds,
        maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
        graceSeconds: config.refreshReuseGraceSeconds,
        device,
        client,
        revoke: end => app.handoff.sessionRevocations.revoke(request, 'reuse_detected', end)
      })
    if (result.status === 'invalid' || result.status === 'reused') {
      if (client === 'browser') cookies.clear(reply)
      if (result.status === 'reused') request.log.warn({ userId: result.userId, sessionId: result.sessionId, client }, 'refresh: rotated token reused, session revoked')
      throw result.status === 'reused' ? new RefreshTokenReusedError() : new RefreshTokenInvalidError()
    }
    const { grant } = result
    const accessToken = signAccessToken(reply, grant.user, grant.sessionId, client)
    if (result.status === 'grace') request.log.info({ userId: grant.user.id, sessionId: grant.sessionId }, `refresh: rotated token presented again within the grace window by the same ${client === 'native' ? 'app' : 'browser'}`)
    if (client === 'native') {
      const refresh = result.status === 'rotated' ? { token: result.grant.refreshToken, expiresInSeconds: secondsUntil(result.expiresAt, now) } : undefined
      return { status: 'refreshed' as const, user: grant.user, tokens: nativeTokens(config, accessToken, refresh) }
    }
    if (result.status === 'rotated') {
      cookies.set(reply, { accessToken, refreshToken: result.grant.refreshToken, refreshMaxAge: secondsUntil(result.expiresAt, now) })
      if (result.sessionDevice && device !== presentedDevice && device !== undefined) cookies.setDevice(reply, device)
    } else {
      cookies.setAccess(reply, accessToken)
    }
    return { status: 'refreshed' as const, user: grant.user }
  })

  app.post('/logout', {
    preValidation: emptyBodyWhenAbsent,
    schema: {
      operationId: 'logout',
      tags: ['session'],
      summary: 'End this session (or, with ?all=true, every session of this user)',
      description: SessionDescriptions.logout,
      security: logoutSecurity,
      querystring: LogoutQuerySchema,
      body: LogoutBodySchema,
      response: { 200: ProviderLogoutSchema, 204: { type: 'null', description: 'Signed out' }, 400: ErrorRef, 403: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    // A native app's refresh token comes in the body (and ends only a native session), a browser's in its cookie.
    const native = request.body.refreshToken !== undefined
    const refreshToken = native ? request.body.refreshToken : request.cookies[cookies.refreshName]
    const user = (() => { try { return verifyAccessToken(request) } catch { return null } })()
    const { sql } = app.handoff.db
    // The session this browser was using: the access cookie's, else the refresh cookie's.
    let ended = user?.sessionId
    if (request.query.all === true && user !== null) {
      await app.handoff.sessionRevocations.revoke(request, 'logout_all', record => revokeUserSessions(sql, user.id, record))
    } else {
      const byRefresh = refreshToken !== undefined && refreshToken !== ''
        ? await app.handoff.sessionRevocations.revoke(request, 'logout', record => revokeSession(sql, { refreshToken, client: native ? 'native' : 'browser' }, record))
        : null
      ended ??= byRefresh?.sessionIds[0]
      // The refresh cookie may be stale (purged, or of an older session of this browser): the
      // access cookie's session ends too, or its token would keep working until it expires.
      if (user !== null && byRefresh?.sessionIds.includes(user.sessionId) !== true) {
        await app.handoff.sessionRevocations.revoke(request, 'logout', record => revokeSession(sql, { sessionId: user.sessionId }, record))
      }
    }
    // A native app holds no cookie of ours: nothing to clear.
    if (!native && user?.client !== 'native') cookies.clear(reply)
    if (request.query.withProvider !== true) return reply.code(204).send(null)
    // Only Kakao has a page that ends its own browser session and comes back (KAKAO_LOGOUT_REDIRECT_URI).
    const kakao = config.kakao
    const providerLogoutUrl = kakao?.logoutRedirectUri !== undefined && ended !== undefined && await sessionSignInProvider(sql, ended) === 'kakao'
      ? kakaoLogoutUrl(kakao)
      : null
    return reply.code(200).send({ providerLogoutUrl })
  })

  app.get('/sessions', {
    preHandler: authenticateSession,
    schema: {
      operationId: 'listSessions',
      tags: ['session'],
      summary: 'The signed-in user\'s active sessions (devices)',
      security: accessTokenSecurity,
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
      security: accessTokenSecurity,
      params: SessionParamsSchema,
      response: { 204: { type: 'null', description: 'Revoked' }, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const revoked = await app.handoff.sessionRevocations.revoke(request, 'revoked', record =>
      revokeSession(app.handoff.db.sql, { sessionId: request.params.id, userId: request.user.id }, record))
    if (revoked === null) throw new SessionNotFoundError()
    if (request.params.id === request.user.sessionId && request.user.client === 'browser') cookies.clear(reply)
    return reply.code(204).send(null)
  })
}
