import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { NormalizedProfile } from '../providers/provider.js'
import { generateSecret, hashSecret } from '../secrets.js'
import { sessionCookies } from '../sessions/cookies.js'
import { recordIdentityLinked } from '../users/identity-events.js'
import { findUserByIdentity, linkByVerifiedEmail } from '../users/identities.js'
import { DEV_PROVIDER } from './dev-provider.js'
import { frontendRedirectUrl, safeReturnTo } from './handoff.js'
import { createLoginCode, type CodeBinding } from './login-codes.js'
import { loginCookies, type LoginCookie } from './login-cookies.js'

/**
 * At the start of a login or a link: remember, for the callback, where to return, the frontend's
 * PKCE-style challenge and, for a link, the session it links to. Whichever of these this start does
 * not set is cleared: an abandoned start leaves its cookies for 10 minutes, and a plain login must
 * not link (or fail) for an old link's session, bind its code to an old challenge or go to an old page.
 */
export function rememberLoginRequest (reply: FastifyReply, config: Config, providerId: string, request: { returnTo?: string, codeChallenge?: string, linkSessionId?: string }): void {
  const cookies = loginCookies(config, providerId)
  const values: Array<[LoginCookie, string | undefined]> = [
    ['returnTo', safeReturnTo(request.returnTo, config.frontendOrigin)],
    ['challenge', request.codeChallenge],
    ['link', request.linkSessionId]
  ]
  for (const [cookie, value] of values) {
    // clearCookie expires it whatever maxAge the options carry; same name and path, so it is gone.
    if (value === undefined) reply.clearCookie(cookies.names[cookie], cookies.options)
    else cookies.set(reply, cookie, value)
  }
}

/**
 * What the one-time code will be bound to: the frontend's code_challenge when the login carried one,
 * else this browser's binding cookie (set here if the browser has none yet), so a code copied out
 * of the URL is useless anywhere else.
 */
function bindCode (request: FastifyRequest, reply: FastifyReply, config: Config, providerId: string): CodeBinding {
  const codeChallenge = loginCookies(config, providerId).read(request, 'challenge')
  if (codeChallenge !== undefined && codeChallenge !== '') return { codeChallenge }
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
 * profile to the nickname signup.
 */
export async function completeLogin (app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, profile: NormalizedProfile, hooks: HandoffHooks): Promise<string> {
  const now = app.handoff.clock.now()
  const { prisma, sql } = app.handoff.db
  let userId = await findUserByIdentity(prisma, profile, now)
  // The dev provider's email is typed into a form by anyone: it never joins an account.
  if (userId === null && app.handoff.config.linkByVerifiedEmail && profile.provider !== DEV_PROVIDER.id) {
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
  return createLoginCode(sql, target, bindCode(request, reply, app.handoff.config, profile.provider), now, app.handoff.config.loginCodeTtlSeconds)
}

/**
 * Runs the last browser step and sends the browser to the frontend: with the one-time code (and
 * returnTo) on success, with `error=<code>` on any failure, never a JSON page or a 500. The login's
 * cookies are cleared either way: a state is good for one callback.
 */
export async function redirectToFrontend (request: FastifyRequest, reply: FastifyReply, config: Config, providerId: string, run: () => Promise<string | { linked: string }>): Promise<FastifyReply> {
  // Checked again: the cookie may have been planted, not written by our login route.
  const cookies = loginCookies(config, providerId)
  const returnTo = safeReturnTo(cookies.read(request, 'returnTo'), config.frontendOrigin)
  cookies.clear(reply)

  let target: string
  try {
    const outcome = await run()
    target = frontendRedirectUrl(config, { ...(typeof outcome === 'string' ? { code: outcome } : outcome), returnTo })
  } catch (error) {
    const code = error instanceof LoginFlowError ? error.code : LoginErrorCode.serverError
    const log = { provider: providerId, error: code, reason: (error as Error).message }
    if (code === LoginErrorCode.serverError) request.log.error({ ...log, err: error }, 'login failed')
    else request.log.warn(log, 'login failed')
    target = frontendRedirectUrl(config, { error: code })
  }
  return reply.redirect(target, 302)
}
