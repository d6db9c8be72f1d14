import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { NicknameInvalidError, NicknameReservedError, NicknameTakenError, UserNotFoundError } from '../errors.js'
import { runAfterHook, type HandoffHooks } from '../lifecycle-hooks.js'
import { accessCookieSecurity, ErrorRef, ref } from '../schemas/common.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { requireRecentSignIn } from '../sessions/recent-sign-in.js'
import { signAccessToken } from '../sessions/access-token-signing.js'
import { authenticateSession } from '../sessions/guards.js'
import { isUniqueViolation } from '../db/errors.js'
import { deleteUser } from './create-user.js'
import { checkNickname } from './nicknames.js'
import { NicknameBodySchema, UserProfileSchema } from './schemas.js'

const UserProfileRef = ref(UserProfileSchema)

/** The signed-in user's own account, mounted at /users. */
export const userRoutes: FastifyPluginAsyncTypebox<{ cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { cookies, hooks }) => {
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
        linkedAt: identity.createdAt.toISOString(),
        lastLoginAt: identity.lastLoginAt.toISOString()
      }))
    }
  }

  app.get('/me', {
    schema: {
      tags: ['account'],
      summary: 'The signed-in user\'s profile and linked identities',
      security: accessCookieSecurity,
      response: { 200: Type.Object({ user: UserProfileRef }), 401: ErrorRef }
    }
  }, async request => ({ user: await loadProfile(request.user.id) }))

  app.patch('/me', {
    schema: {
      tags: ['account'],
      summary: 'Change the nickname (same rules as signup)',
      description: 'Answers the updated profile and re-issues the access cookie, which carries the nickname. 400 `nickname_invalid` / `nickname_reserved`, 409 `nickname_taken`.',
      security: accessCookieSecurity,
      body: NicknameBodySchema,
      response: { 200: Type.Object({ user: UserProfileRef }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 409: ErrorRef }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    const nickname = checkNickname(request.body.nickname)
    if (!nickname.valid) throw nickname.reason === 'reserved' ? new NicknameReservedError(nickname.message) : new NicknameInvalidError(nickname.message)
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
    cookies.setAccess(reply, signAccessToken(reply, user, request.user.sessionId))
    return { user: await loadProfile(request.user.id) }
  })

  app.delete('/me', {
    // A stolen session (or an unattended browser) must not be enough to erase the account.
    preHandler: requireRecentSignIn,
    schema: {
      tags: ['account'],
      summary: 'Delete the account, its identities and sessions, and clear the cookies',
      description: 'Needs a recent sign-in: the session must have been opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default); refreshing does not count. Otherwise 403 `reauthentication_required` and nothing is deleted: send the user through a provider login again, then retry. 403 `csrf_rejected` without X-Requested-With or from an origin not allowed.',
      security: accessCookieSecurity,
      response: {
        204: Type.Null({ description: 'Deleted' }),
        401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
        403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS, nothing deleted; or `csrf_rejected`' }
      }
    },
    config: { csrf: true }
  }, async (request, reply) => {
    await app.handoff.sessionRevocations.revoke(request, 'account_deleted', record => deleteUser(app.handoff.db.sql, request.user.id, record))
    cookies.clear(reply)
    await runAfterHook(hooks.onUserDeleted, 'onUserDeleted', { userId: request.user.id, request })
    return reply.code(204).send(null)
  })
}
