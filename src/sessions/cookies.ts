import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { Config } from '../config.js'

export interface SessionCookies {
  accessName: string
  refreshName: string
  /** The first-login cookie that binds POST /auth/signup to its pending identity. */
  signupName: string
  set(reply: FastifyReply, tokens: { accessToken: string, refreshToken: string }): void
  /** Replaces the access cookie alone (its claims changed, the session did not). */
  setAccess(reply: FastifyReply, accessToken: string): void
  clear(reply: FastifyReply): void
  setSignup(reply: FastifyReply, signupToken: string): void
  clearSignup(reply: FastifyReply): void
}

/** The refresh cookie only travels to the routes that rotate or end a session. */
export const REFRESH_COOKIE_PATH = '/auth'

/**
 * Cookie names and flags for a configuration. Over https the names carry the `__Host-` /
 * `__Secure-` prefixes, which browsers only accept with `Secure` (and, for `__Host-`, `Path=/` and
 * no Domain), so a sibling subdomain or a plain-http page cannot plant or overwrite them.
 */
export function sessionCookies (config: Pick<Config, 'publicUrl' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'signupTtlSeconds'>): SessionCookies {
  const secure = config.publicUrl.startsWith('https:')
  const accessName = secure ? '__Host-handoff_access' : 'handoff_access'
  const refreshName = secure ? '__Secure-handoff_refresh' : 'handoff_refresh'
  const signupName = secure ? '__Secure-handoff_signup' : 'handoff_signup'
  const base: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'lax' }
  const access: CookieSerializeOptions = { ...base, path: '/', maxAge: config.accessTokenTtlSeconds }
  const refresh: CookieSerializeOptions = { ...base, path: REFRESH_COOKIE_PATH, maxAge: config.refreshTokenTtlSeconds }
  const signup: CookieSerializeOptions = { ...base, path: REFRESH_COOKIE_PATH, maxAge: config.signupTtlSeconds }

  return {
    accessName,
    refreshName,
    signupName,
    setSignup (reply, signupToken) {
      reply.setCookie(signupName, signupToken, signup)
    },
    clearSignup (reply) {
      reply.clearCookie(signupName, { ...signup, maxAge: undefined })
    },
    setAccess (reply, accessToken) {
      reply.setCookie(accessName, accessToken, access)
    },
    set (reply, { accessToken, refreshToken }) {
      reply.setCookie(accessName, accessToken, access)
      reply.setCookie(refreshName, refreshToken, refresh)
    },
    clear (reply) {
      reply.clearCookie(accessName, { ...access, maxAge: undefined })
      reply.clearCookie(refreshName, { ...refresh, maxAge: undefined })
    }
  }
}
