import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError, ProviderNotFoundError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { perMinute } from '../plugins/rate-limit.js'
import type { NormalizedProfile, Provider } from '../providers/provider.js'
import { accessCookieSecurity, ErrorRef } from '../schemas/common.js'
import { safeEqual } from '../secrets.js'
import { requireRecentSignIn } from '../sessions/recent-sign-in.js'
import { verifyAccessToken } from '../sessions/tokens.js'
import { recordIdentityLinked } from '../users/identity-events.js'
import { linkIdentity } from '../users/users.js'
import { loginCookies } from './login-cookies.js'
import { authorizationUrl } from './oauth-dance.js'
import { LinkBodySchema, LinkQuerySchema, LinkStartedSchema, ProviderParamsSchema } from './schemas.js'

// Linking another provider to the signed-in account. A link starts only with a CSRF-checked POST
// (a GET would start from any site's link or image: SameSite=Lax lets the cookies through a
// top-level navigation, and the victim would come back with the attacker's provider account on
// theirs), from a session signed in within REAUTH_MAX_AGE_SECONDS (a stolen access cookie links
// nothing). The callback then links only for that very session, still live.

/** The session a link dance was started by, and its user. */
export interface LinkingSession { userId: string, sessionId: string }

/** At the callback of a link: the browser must still be signed in to the session that started it. */
export function verifyLinkingSession (request: FastifyRequest, sessionId: string): LinkingSession {
  let user
  try {
    user = verifyAccessToken(request)
  } catch {
    throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: the session that started the link is gone')
  }
  if (!safeEqual(user.sessionId, sessionId)) throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: started by another session')
  return { userId: user.id, sessionId: user.sessionId }
}

/**
 * Adds the identity to the session's user, if that session is still live (a signed-out or revoked
 * session's unexpired access cookie is not enough). An identity that belongs to someone else is refused.
 */
export async function completeLink (app: FastifyInstance, request: FastifyRequest, hooks: HandoffHooks, link: LinkingSession, profile: NormalizedProfile): Promise<void> {
  const now = app.handoff.clock.now()
  const [live] = await app.handoff.db.sql.query('SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3', [link.sessionId, link.userId, now])
  if (live === undefined) throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: the session that started the link is revoked or expired')
  const linked = await linkIdentity(app.handoff.db.prisma, link.userId, profile, now)
  if (linked.userId !== link.userId) throw new LoginFlowError(LoginErrorCode.identityInUse, `link: this ${profile.provider} account belongs to another user`)
  if (!linked.created) return
  await recordIdentityLinked(hooks, {
    userId: link.userId,
    identity: { id: linked.identityId, provider: profile.provider, providerUserId: profile.providerUserId },
    method: 'link',
    sessionId: link.sessionId,
    request
  })
}

// The SPA may POST with no body at all; the schema then sees an empty one.
const emptyBodyWhenAbsent: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {}
  done()
}

export const linkRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.post('/:provider/link', {
    preValidation: emptyBodyWhenAbsent,
    // A stolen access cookie must not link the thief's provider account: a recent sign-in, as for deletion.
    preHandler: requireRecentSignIn,
    schema: {
      tags: ['account'],
      summary: 'Start linking another provider to the signed-in account',
      description: 'Needs a recent sign-in, like deleting the account: a live session opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default; refreshing does not count), else 403 `reauthentication_required` and no cookie is set: send the user through a provider login again, then retry. ' +
        'Like every state-changing call, it needs `X-Requested-With` and an allowed `Origin` (403 `csrf_rejected` otherwise; a link never starts from a cross-site navigation). ' +
        'Sets this browser\'s state (and PKCE verifier) cookies for the provider\'s callback and answers the provider\'s authorize URL: navigate there (`location.assign(authorizationUrl)`). ' +
        'The callback links the identity only for the session that started it, if it is still live, and redirects to FRONTEND_URL with `linked=<provider>` (and `returnTo`), or with `error=identity_in_use` (it belongs to another account) or `error=link_session_invalid` (that session signed out, was revoked or expired, or this browser now holds another one). ' +
        '`returnTo` may come in the JSON body or the query.',
      security: accessCookieSecurity,
      params: ProviderParamsSchema,
      querystring: LinkQuerySchema,
      body: LinkBodySchema,
      response: {
        200: LinkStartedSchema,
        401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
        403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS; or `csrf_rejected`: no `X-Requested-With`, or a foreign `Origin`' },
        404: { ...ErrorRef, description: '`provider_not_found`' },
        429: { ...ErrorRef, description: '`rate_limited`' }
      }
    },
    config: { csrf: true, rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw new ProviderNotFoundError(request.params.provider)
    loginCookies(config, provider.id).remember(reply, { returnTo: request.body.returnTo ?? request.query.returnTo, linkSessionId: request.user.sessionId })
    return { authorizationUrl: await authorizationUrl(app, provider.id, request, reply) }
  })
}
