import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import type { NormalizedProfile } from '../providers/provider.js'
import { findUserByIdentity, linkByVerifiedEmail } from '../users/users.js'
import { frontendRedirectUrl } from './handoff.js'
import { createLoginCode } from './login-codes.js'
import { danceCookieOptions, RETURN_TO_COOKIE, STATE_COOKIE, VERIFIER_COOKIE } from './oauth-dance.js'

/**
 * The end of every login, whatever the provider: a one-time code for the profile's user (known,
 * or linked by a verified email), or, for a first-time identity, a code that carries the pending
 * profile to the nickname signup.
 */
export async function completeLogin (app: FastifyInstance, profile: NormalizedProfile): Promise<string> {
  const now = app.clock.now()
  const { prisma, sql } = app.db
  const userId = await findUserByIdentity(prisma, profile, now) ??
    (app.config.linkByVerifiedEmail ? await linkByVerifiedEmail(prisma, profile, now) : null)
  return createLoginCode(sql, userId === null ? { pendingProfile: profile } : { userId }, now, app.config.loginCodeTtlSeconds)
}

/**
 * Runs the last browser step and sends the browser to the frontend: with the one-time code (and
 * returnTo) on success, with `error=<code>` on any failure, never a JSON page or a 500. The login's
 * cookies are cleared either way: a state is good for one callback.
 */
export async function redirectToFrontend (request: FastifyRequest, reply: FastifyReply, config: Config, providerId: string, run: () => Promise<string>): Promise<FastifyReply> {
  const returnTo = request.cookies[RETURN_TO_COOKIE]
  const cookieOptions = { ...danceCookieOptions(config, providerId), maxAge: undefined }
  for (const name of [STATE_COOKIE, VERIFIER_COOKIE, RETURN_TO_COOKIE]) reply.clearCookie(name, cookieOptions)

  let target: string
  try {
    target = frontendRedirectUrl(config, { code: await run(), returnTo })
  } catch (error) {
    const code = error instanceof LoginFlowError ? error.code : LoginErrorCode.serverError
    const log = { provider: providerId, error: code, reason: (error as Error).message }
    if (code === LoginErrorCode.serverError) request.log.error({ ...log, err: error }, 'login failed')
    else request.log.warn(log, 'login failed')
    target = frontendRedirectUrl(config, { error: code })
  }
  return reply.redirect(target, 302)
}
