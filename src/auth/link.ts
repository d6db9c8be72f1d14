import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError, NativeLinkUnsupportedError, providerNotFound } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { NormalizedProfile, Provider, ProviderTokens } from '../providers/provider.js'
import { keepProviderTokens } from '../providers/provider-tokens.js'
import { accessCookieSecurity, emptyBodyWhenAbsent } from '../schemas/common.js'
import { safeEqual } from '../secrets.js'
import { requireRecentSignIn } from '../sessions/recent-sign-in.js'
import { verifyAccessToken } from '../sessions/guards.js'
import { findLiveSession } from '../sessions/store.js'
import { recordIdentityLinked } from '../users/identity-events.js'
import { linkIdentity } from '../users/identities.js'
import { loginCookies } from './login-cookies.js'
import { authorizationUrl } from './oauth-dance.js'
import { AuthDescriptions, LinkBodySchema, LinkQuerySchema, LinkResponses, ProviderParamsSchema } from './schemas.js'

// Linking another provider to the signed-in account. A link starts only with a CSRF-checked POST
// (a GET would start from any site's link or image: SameSite=Lax lets the cookies through a
// top-level navigation, and the victim would come back with the attacker's provider account on
// theirs), from a session signed in within REAUTH_MAX_AGE_SECONDS (a stolen access cookie links
// nothing). The callback then links only for that very session, still live.

/** The session a link dance was started by, and its user. */
interface LinkingSession { userId: string, sessionId: string }

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
export async function completeLink (app: FastifyInstance, request: FastifyRequest, hooks: HandoffHooks, link: LinkingSession, profile: NormalizedProfile, tokens: ProviderTokens | null = null): Promise<void> {
  const now = app.handoff.clock.now()
  if (await findLiveSession(app.handoff.db.sql, link, now) === undefined) throw new LoginFlowError(LoginErrorCode.linkSessionInvalid, 'link: the session that started the link is revoked or expired')
  const linked = await linkIdentity(app.handoff.db.prisma, link.userId, profile, now)
  if (linked.userId !== link.userId) throw new LoginFlowError(LoginErrorCode.identityInUse, `link: this ${profile.provider} account belongs to another user`)
  if (tokens !== null) await keepProviderTokens(app.handoff.db.sql, app.handoff.tokenVault, { id: linked.identityId, provider: profile.provider, providerUserId: profile.providerUserId }, tokens, now)
  if (!linked.created) return
  await recordIdentityLinked(hooks, {
    userId: link.userId,
    identity: { id: linked.identityId, provider: profile.provider, providerUserId: profile.providerUserId },
    method: 'link',
    sessionId: link.sessionId,
    request
  })
}

export const linkRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider> }> = async (app, { config, providers }) => {
  app.post('/:provider/link', {
    preValidation: emptyBodyWhenAbsent,
    // A stolen access cookie must not link the thief's provider account: a recent sign-in, as for deletion.
    preHandler: requireRecentSignIn,
    schema: {
      operationId: 'startLink',
      tags: ['account'],
      summary: 'Start linking another provider to the signed-in account',
      description: AuthDescriptions.link,
      security: accessCookieSecurity,
      params: ProviderParamsSchema,
      querystring: LinkQuerySchema,
      body: LinkBodySchema,
      response: LinkResponses
    },
    config: { csrf: true, rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw providerNotFound(request.params.provider)
    // The callback links for the browser that holds the session's cookies; an app's system browser holds none.
    if (request.user.client === 'native') throw new NativeLinkUnsupportedError()
    loginCookies(config, provider.id).remember(reply, { returnTo: request.body.returnTo ?? request.query.returnTo, linkSessionId: request.user.sessionId })
    return { authorizationUrl: await authorizationUrl(app, provider.id, request, reply) }
  })
}
