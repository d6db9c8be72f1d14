import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { NormalizedProfile } from '../providers/provider.js'
import type { ClientKind } from '../sessions/access-claims.js'
import { generateSecret, hashSecret } from '../secrets.js'
import { sessionCookies } from '../sessions/cookies.js'
import { recordIdentityLinked } from '../users/identity-events.js'
import { findUserByIdentity, linkByVerifiedEmail } from '../users/identities.js'
import { DEV_PROVIDER } from './dev-provider.js'
import { createLoginCode, type CodeBinding } from './login-codes.js'

/**
 * What the one-time code will be bound to: the frontend's code_challenge when the login carried one,
 * else this browser's binding cookie (set here if the browser has none yet), so a code copied out
 * of the URL is useless anywhere else.
 */
function bindCode (request: FastifyRequest, reply: FastifyReply, config: Config, codeChallenge: string | undefined): CodeBinding {
  if (codeChallenge !== undefined) return { codeChallenge }
  if (!config.bindCodeToBrowser) return {}
  const cookies = sessionCookies(config)
  let secret = request.cookies[cookies.bindingName]
  if (secret === undefined || !/^[\w-]{43}$/.test(secret)) secret = generateSecret()
  cookies.setBinding(reply, secret)
  return { bindingHash: hashSecret(secret) }
}

/**
 * The end of every login, whatever the provider: a one-time code for the profile's user (known,
 * or linked by a verified email), or, for a first-time identity, a code that carries the pending
 * profile to the nickname signup. A native app's code (`client: 'native'`) is always bound to its
 * code_challenge and redeems only as native.
 */
export async function completeLogin (app: FastifyInstance, hooks: HandoffHooks, request: FastifyRequest, reply: FastifyReply, login: { profile: NormalizedProfile, codeChallenge?: string, linkByVerifiedEmail: boolean, client?: ClientKind }): Promise<string> {
  const { profile } = login
  const now = app.handoff.clock.now()
  const { prisma, sql } = app.handoff.db
  let userId = await findUserByIdentity(prisma, profile, now)
  // Only a provider trusted to verify addresses joins an account by email (Provider.linkByVerifiedEmail):
  // never the dev provider, whose email is typed into a form by anyone, nor an address its provider
  // marks as not linkable (Apple's private relay: linkByVerifiedEmail refuses it too).
  if (userId === null && app.handoff.config.linkByVerifiedEmail && login.linkByVerifiedEmail && profile.emailLinkable !== false && profile.provider !== DEV_PROVIDER.id) {
    const joined = await linkByVerifiedEmail(prisma, profile, now)
    userId = joined?.userId ?? null
    if (joined?.created === true) {
      await recordIdentityLinked(hooks, {
        userId: joined.userId,
        identity: { id: joined.identityId, provider: profile.provider, providerUserId: profile.providerUserId },
        method: 'verified_email',
        request
      })
    }
  }
  const target = userId === null ? { pendingProfile: profile } : { userId }
  const client = login.client ?? 'browser'
  if (client === 'native' && login.codeChallenge === undefined) throw new Error('a native login code needs a code_challenge')
  return createLoginCode(sql, target, bindCode(request, reply, app.handoff.config, login.codeChallenge), now, app.handoff.config.loginCodeTtlSeconds, client)
}
