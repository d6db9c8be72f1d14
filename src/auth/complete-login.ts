import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { isForeignKeyViolation } from '../db/errors.js'
import type { NormalizedProfile, ProviderTokens } from '../providers/provider.js'
import { keepProviderTokens } from '../providers/provider-tokens.js'
import type { ClientKind } from '../sessions/access-claims.js'
import { generateSecret, hashSecret } from '../secrets.js'
import { sessionCookies } from '../sessions/cookies.js'
import { recordIdentityLinked } from '../users/identity-events.js'
import { linkByVerifiedEmail, touchIdentity } from '../users/identities.js'
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

interface CompletedLogin {
  profile: NormalizedProfile
  /** The tokens this login brought (none from the dev provider). */
  tokens?: ProviderTokens | null
  codeChallenge?: string
  linkByVerifiedEmail: boolean
  /** Default: a browser's code. */
  client?: ClientKind
}

/**
 * The end of every login, whatever the provider: a one-time code for the profile's user (known,
* or linked by a verified email) through that identity, whose tokens from this login are kept; or,
 * for a first-time identity, a code that carries the pending profile (and the tokens, sealed) to
 * the nickname signup. A native app's code (`client: 'native'`) is always bound to its
 * code_challenge and redeems only as native.
 */
export async function completeLogin (app: FastifyInstance, hooks: HandoffHooks, request: FastifyRequest, reply: FastifyReply, login: CompletedLogin): Promise<string> {
  if (login.client === 'native' && login.codeChallenge === undefined) throw new Error('a native login code needs a code_challenge')
  const binding = bindCode(request, reply, app.handoff.config, login.codeChallenge)
  try {
    return await issueLoginCode(app, hooks, request, login, binding)
  } catch (error) {
    // The identity (or its account) was removed while this login ran (its user unlinked it, the
    // provider's unlink notice, a deletion): it is a first login now, which a second pass makes it.
    if (!IDENTITY_GONE.some(constraint => isForeignKeyViolation(error, constraint))) throw error
    return issueLoginCode(app, hooks, request, login, binding)
  }
}

const IDENTITY_GONE = ['login_codes_identity_id_fkey', 'login_codes_user_id_fkey']

async function issueLoginCode (app: FastifyInstance, hooks: HandoffHooks, request: FastifyRequest, login: CompletedLogin, binding: CodeBinding): Promise<string> {
  const { profile, tokens } = login
  const client = login.client ?? 'browser'
  const now = app.handoff.clock.now()
  const { prisma, sql } = app.handoff.db
  const { tokenVault } = app.handoff
  let identity = await touchIdentity(prisma, profile, now)
  // Only a provider trusted to verify addresses joins an account by email (Provider.linkByVerifiedEmail):
  // never the dev provider, whose email is typed into a form by anyone, nor an address its provider
  // marks as not linkable (Apple's private relay: linkByVerifiedEmail refuses it too).
  if (identity === null && app.handoff.config.linkByVerifiedEmail && login.linkByVerifiedEmail && profile.emailLinkable !== false && profile.provider !== DEV_PROVIDER.id) {
    const joined = await linkByVerifiedEmail(prisma, profile, now)
    identity = joined === null ? null : { id: joined.identityId, userId: joined.userId }
    if (joined?.created === true) {
      await recordIdentityLinked(hooks, {
        userId: joined.userId,
        identity: { id: joined.identityId, provider: profile.provider, providerUserId: profile.providerUserId },
        method: 'verified_email',
        request
      })
    }
  }
  const ttl = app.handoff.config.loginCodeTtlSeconds
  if (identity === null) {
    const sealedTokens = tokens == null ? null : tokenVault.seal(profile, tokens)
    return createLoginCode(sql, { pendingProfile: sealedTokens === null ? profile : { ...profile, sealedTokens } }, binding, now, ttl, client)
  }
  if (tokens != null) await keepProviderTokens(sql, tokenVault, { id: identity.id, provider: profile.provider, providerUserId: profile.providerUserId }, tokens, now)
  return createLoginCode(sql, { userId: identity.userId, identityId: identity.id }, binding, now, ttl, client)
}
