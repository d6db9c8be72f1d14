import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { isUniqueViolation } from '../db/errors.js'
import { nicknameRefused, NicknameTakenError, UserNotFoundError } from '../errors.js'
import { runAfterHook, type HandoffHooks } from '../lifecycle-hooks.js'
import { markLanguage, negotiateLanguage } from '../messages/index.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { accessTokenSecurity, ErrorRef, ref } from '../schemas/common.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { requireRecentSignIn } from '../sessions/recent-sign-in.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { authenticateSession } from '../sessions/guards.js'
import { isAppleRelayAddress } from '../providers/apple.js'
import { deleteUser } from './delete-user.js'
import { unlinkIdentity } from './identities.js'
import { recordIdentityUnlinked } from './identity-events.js'
import { nicknameAvailability } from './nickname-availability.js'
import { checkNickname } from './nicknames.js'
import { AvailabilityQuerySchema, AvailabilitySchema, DeleteAccountResponses, NicknameBodySchema, UnlinkIdentityResponses, UserDescriptions, UserProfileSchema } from './schemas.js'

const UserProfileRef = ref(UserProfileSchema)

/**
 * Every users route. The nickname check answers before any account exists, for the signup form, so
 * it is public and keeps its URL under /auth; the account routes refuse anyone not signed in. Two
 * sibling plugins, so the account routes' session hook never reaches the public check.
 */
export const userRoutes: FastifyPluginAsyncTypebox<{ config: Config, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, cookies, hooks }) => {
  await app.register(accountRoutes, { prefix: '/users', cookies, hooks })
  await app.register(nicknameAvailabilityRoute, { prefix: '/auth', config })
}

/** GET /auth/nickname/availability: public, rate-limited per client address. */
const nicknameAvailabilityRoute: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.get('/nickname/availability', {
    schema: {
      operationId: 'checkNicknameAvailability',
      tags: ['signup'],
      summary: 'Check a nickname before signing up or renaming',
      description: UserDescriptions.availability,
      querystring: AvailabilityQuerySchema,
      response: { 200: AvailabilitySchema, 400: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.nicknamePerMinute) }
  }, async (request, reply) => {
    const language = negotiateLanguage(request.headers['accept-language'])
    markLanguage(reply, language)
    return nicknameAvailability(app.handoff.db.sql, request.query.nickname, language)
  })
}

/** The signed-in user's own account, mounted at /users. */
const accountRoutes: FastifyPluginAsyncTypebox<{ cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { cookies, hooks }) => {
  // Every account route also refuses a revoked session at once.
  app.addHook('preHandler', authenticateSession)

  async function loadProfile (userId: string) {
    const user = await app.handoff.db.prisma.user.findUnique({
      where: { id: userId },
      include: { identities: { orderBy: { createdAt: 'asc' } } }
    })
    if (user === null) throw new UserNotFoundError()
    return {
      id: user.id,
      nickname: user.nickname,
      name: user.name,
      email: user.emailVerified ? user.email : null,
      avatarUrl: user.avatarUrl,
      createdAt: user.createdAt.toISOString(),
      identities: user.identities.map(identity => ({
        id: identity.id,
        provider: identity.provider,
        email: identity.email,
        emailVerified: identity.emailVerified,
        emailPrivate: isAppleRelayAddress(identity.email),
        emailForwarding: identity.emailForwarding,
        linkedAt: identity.createdAt.toISOString(),
        lastLoginAt: identity.lastLoginAt.toISOString()
      }))
    }
  }

  app.get('/me', {
    schema: {
      operationId: 'getProfile',
      tags: ['account'],
      summary: 'The signed-in user\'s profile and linked identities',
      security: accessTokenSecurity,
      response: { 200: Type.Object({ user: UserProfileRef }), 401: ErrorRef }
    }
  }, async request => ({ user: await loadProfile(request.user.id) }))

  app.patch('/me', {
    schema: {
      operationId: 'changeNickname',
      tags: ['account'],
      summary: 'Change the nickname (same rules as signup)',
      description: UserDescriptions.changeNickname,
      security: accessTokenSecurity,
      body: NicknameBodySchema,
      response: { 200: Type.Object({ user: UserProfileRef }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 409: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const nickname = checkNickname(request.body.nickname)
    if (!nickname.valid) throw nicknameRefused(nickname)
    let updated: { nickname: string, avatar_url: string | null } | undefined
    try {
      [updated] = await app.handoff.db.sql.query<{ nickname: string, avatar_url: string | null }>(
        'UPDATE users SET nickname = $2, nickname_key = $3, updated_at = $4 WHERE id = $1 RETURNING nickname, avatar_url',
        [request.user.id, nickname.nickname, nickname.key, app.handoff.clock.now()])
    } catch (error) {
      if (isUniqueViolation(error, 'users_nickname_key_key')) throw new NicknameTakenError()
      throw error
    }
    if (updated === undefined) throw new UserNotFoundError()
    const user = { id: request.user.id, nickname: updated.nickname, avatarUrl: updated.avatar_url }
    // A native app's access token keeps the old nickname until its next refresh: it holds no cookie to replace.
    if (request.user.client === 'browser') cookies.setAccess(reply, signAccessToken(reply, user, request.user.sessionId))
    return { user: await loadProfile(request.user.id) }
  })

  app.delete('/me', {
    // A stolen session (or an unattended browser) must not be enough to erase the account.
    preHandler: requireRecentSignIn,
    schema: {
      operationId: 'deleteAccount',
      tags: ['account'],
      summary: 'Delete the account, its identities and sessions, and clear the cookies',
      description: UserDescriptions.deleteAccount,
      security: accessTokenSecurity,
      response: DeleteAccountResponses
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const { grantRevocations } = app.handoff
    await app.handoff.sessionRevocations.revoke(request, 'account_deleted', record => deleteUser(app.handoff.db.sql, request.user.id, record, grantRevocations))
    // The providers hear of it in the background (Kakao's unlink, Naver's revoke): never waited for.
    grantRevocations.kick()
    if (request.user.client === 'browser') cookies.clear(reply)
    await runAfterHook(hooks.onUserDeleted, 'onUserDeleted', { userId: request.user.id, request })
    return reply.code(204).send(null)
  })

  app.delete('/me/identities/:id', {
    // Unlinking the owner's identities is how a stolen session would lock the owner out.
    preHandler: requireRecentSignIn,
    schema: {
      operationId: 'unlinkIdentity',
      tags: ['account'],
      summary: 'Unlink one identity from the account',
      description: UserDescriptions.unlinkIdentity,
      security: accessTokenSecurity,
      params: Type.Object({ id: Type.String({ maxLength: 64, description: 'The identity\'s id (or, for compatibility, its provider)' }) }),
      response: UnlinkIdentityResponses
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const { id: userId, sessionId } = request.user
    const identity = await unlinkIdentity(app.handoff.db.sql, userId, request.params.id, app.handoff.grantRevocations)
    app.handoff.grantRevocations.kick()
    await recordIdentityUnlinked(hooks, { userId, identity, initiator: 'user', sessionId, request })
    return reply.code(204).send(null)
  })
}
