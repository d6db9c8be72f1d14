import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { Config } from '../config.js'

export interface SessionCookies {
  accessName: string
  refreshName: string
  set(reply: FastifyReply, tokens: { accessToken: string, refreshToken: string }): void
  clear(reply: FastifyReply): void
}

/** The refresh cookie only travels to the routes that rotate or end a session. */
export const REFRESH_COOKIE_PATH = '/auth'

/**
 * Cookie names and flags for a configuration. Over https the names carry the `__Host-` /
 * `__Secure-` prefixes, which browsers only accept with `Secure` (and, for `__Host-`, `Path=/` and
 * no Domain), so a sibling subdomain or a plain-http page cannot plant or overwrite them.
 */
export function sessionCookies (config: Pick<Config, 'publicUrl' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'>): SessionCookies {
  const secure = config.publicUrl.startsWith('https:')
  const accessName = secure ? '__Host-handoff_access' : 'handoff_access'
  const refreshName = secure ? '__Secure-handoff_refresh' : 'handoff_refresh'
  const base: CookieSerializeOptions = { httpOnly: true, secure, sameSite: 'lax' }
  const access: CookieSerializeOptions = { ...base, path: '/', maxAge: config.accessTokenTtlSeconds }
  const refresh: CookieSerializeOptions = { ...base, path: REFRESH_COOKIE_PATH, maxAge: config.refreshTokenTtlSeconds }

  return {
    accessName,
    refreshName,
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
