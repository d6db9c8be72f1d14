import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError, ProviderNotFoundError } from '../errors.js'
import { perMinute } from '../plugins/rate-limit.js'
import type { NormalizedProfile, Provider } from '../providers/provider.js'
import { accessCookieSecurity, ErrorRef } from '../schemas/common.js'
import { safeEqual } from '../secrets.js'
import { authenticateSession, verifyAccessToken } from '../sessions/tokens.js'
import { linkIdentity } from '../users/users.js'
import { rememberLoginRequest } from './complete-login.js'
import { loginCookies, type LoginCookies } from './login-cookies.js'
import { oauthDance } from './oauth-dance.js'
import { LoginQuerySchema, ProviderParamsSchema } from './schemas.js'

// Linking another provider to the signed-in account. The link starts from a live session in this
// browser (GET /auth/:provider/link) and the callback links only for that same session, so a link
// cannot be planted in someone else's browser (login CSRF's cousin).

/** At the callback: is this dance a link, and for which signed-in user? Undefined: a plain login. */
export function linkingUser (request: FastifyRequest, cookies: LoginCookies): string | undefined {
  const sessionId = cookies.read(request, 'link')
  if (sessionId === undefined || sessionId === '') return undefined
  let user
  try {
    user = verifyAccessToken(request)
  } catch {
    throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: the session that started the link is gone')
  }
  if (!safeEqual(user.sessionId, sessionId)) throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: started by another session')
  return user.id
}

/** Adds the identity to the user; an identity that belongs to someone else is refused. */
export async function completeLink (app: FastifyInstance, userId: string, profile: NormalizedProfile): Promise<void> {
  const [session] = await app.db.sql.query('SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL LIMIT 1', [userId])
  if (session === undefined) throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: no live session')
  const owner = await linkIdentity(app.db.prisma, userId, profile, app.clock.now())
  if (owner !== userId) throw new LoginFlowError(LoginErrorCode.identityInUse, `link: this ${profile.provider} account belongs to another user`)
}

export const linkRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.get('/:provider/link', {
    preHandler: authenticateSession,
    schema: {
      tags: ['account'],
      summary: 'Link another provider to the signed-in account (a browser navigation)',
      description: 'Needs a live session in this browser. Redirects to the provider like a login; the callback then links the identity and redirects to FRONTEND_URL with `linked=<provider>`, or with `error=identity_in_use` (it belongs to another account) or `error=link_session_invalid`.',
      security: accessCookieSecurity,
      params: ProviderParamsSchema,
      querystring: LoginQuerySchema,
      response: { 302: { description: 'To the provider', type: 'null' }, 401: ErrorRef, 404: ErrorRef }
    },
    config: { rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    loginCookies(config, provider.id).set(reply, 'link', request.user.sessionId)
    rememberLoginRequest(reply, config, provider.id, { returnTo: request.query.returnTo })
    return reply.redirect(await oauthDance(app, provider.id).generateAuthorizationUri(request, reply), 302)
  })
}
