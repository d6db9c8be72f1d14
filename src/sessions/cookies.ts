import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { Config } from '../config.js'

export interface SessionCookies {
  accessName: string
  refreshName: string
  /** The first-login cookie that binds POST /auth/signup to its pending identity. */
  signupName: string
  /** Binds a one-time code to the browser that started the login. */
  bindingName: string
  /** Names the browser a session was opened in: the refresh grace window is honoured for it alone. */
  deviceName: string
  /** `refreshMaxAge`: the seconds the session has left, when fewer than a refresh token's lifetime. */
  set(reply: FastifyReply, tokens: { accessToken: string, refreshToken: string, refreshMaxAge?: number }): void
  /** Replaces the access cookie alone (its claims changed, or a refresh within the grace window). */
  setAccess(reply: FastifyReply, accessToken: string): void
  clear(reply: FastifyReply): void
  setSignup(reply: FastifyReply, signupToken: string): void
  clearSignup(reply: FastifyReply): void
  setBinding(reply: FastifyReply, secret: string): void
  clearBinding(reply: FastifyReply): void
  setDevice(reply: FastifyReply, secret: string): void
}

/** The refresh, signup and binding cookies only travel to the auth routes. */
export const AUTH_COOKIE_PATH = '/auth'
/** A login may take this long on the provider's pages before its binding cookie expires. */
const BINDING_MAX_AGE = 900

type CookieConfig = Pick<Config, 'cookies' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'signupTtlSeconds' | 'sessionMaxLifetimeSeconds'>

/**
 * Cookie names and flags for a configuration. Always HttpOnly. Over https the names carry the
 * `__Host-` / `__Secure-` prefixes, which browsers only accept with `Secure` (and, for `__Host-`,
 * `Path=/` and no Domain), so a sibling subdomain or a plain-http page cannot plant or overwrite
 * them. With COOKIE_DOMAIN the access cookie is shared with sibling subdomains and so takes
 * `__Secure-` instead.
 */
export function sessionCookies ({ cookies, accessTokenTtlSeconds, refreshTokenTtlSeconds, signupTtlSeconds, sessionMaxLifetimeSeconds }: CookieConfig): SessionCookies {
  const { secure, domain, sameSite } = cookies
  const prefix = (hostOnly: boolean) => !secure ? '' : hostOnly && domain === undefined ? '__Host-' : '__Secure-'
  const accessName = `${prefix(true)}handoff_access`
  const refreshName = `${prefix(false)}handoff_refresh`
  const signupName = `${prefix(false)}handoff_signup`
  const bindingName = `${prefix(false)}handoff_binding`
  const deviceName = `${prefix(false)}handoff_device`
  const base: CookieSerializeOptions = { httpOnly: true, secure, sameSite, ...(domain === undefined ? {} : { domain }) }
  const access: CookieSerializeOptions = { ...base, path: '/', maxAge: accessTokenTtlSeconds }
  // No session outlives SESSION_MAX_LIFETIME_SECONDS, so neither does its refresh cookie.
  const refreshLifetime = Math.min(refreshTokenTtlSeconds, sessionMaxLifetimeSeconds)
  const refresh: CookieSerializeOptions = { ...base, path: AUTH_COOKIE_PATH, maxAge: refreshLifetime }
  const signup: CookieSerializeOptions = { ...base, path: AUTH_COOKIE_PATH, maxAge: signupTtlSeconds }
  // Read at the provider's callback, a cross-site navigation: Strict would never arrive there.
  const binding: CookieSerializeOptions = { ...base, sameSite: sameSite === 'none' ? 'none' : 'lax', path: AUTH_COOKIE_PATH, maxAge: BINDING_MAX_AGE }
  // As long as any session opened with it can live; kept on logout (it names the browser, not a session).
  const device: CookieSerializeOptions = { ...base, path: AUTH_COOKIE_PATH, maxAge: sessionMaxLifetimeSeconds }
  const expired = (options: CookieSerializeOptions) => ({ ...options, maxAge: undefined })

  return {
    accessName,
    refreshName,
    signupName,
    bindingName,
    deviceName,
    set (reply, { accessToken, refreshToken, refreshMaxAge }) {
      reply.setCookie(accessName, accessToken, access)
      reply.setCookie(refreshName, refreshToken, { ...refresh, maxAge: Math.min(refreshLifetime, refreshMaxAge ?? refreshLifetime) })
    },
    setAccess (reply, accessToken) {
      reply.setCookie(accessName, accessToken, access)
    },
    clear (reply) {
      reply.clearCookie(accessName, expired(access))
      reply.clearCookie(refreshName, expired(refresh))
    },
    setSignup (reply, signupToken) {
      reply.setCookie(signupName, signupToken, signup)
    },
    clearSignup (reply) {
      reply.clearCookie(signupName, expired(signup))
    },
    setBinding (reply, secret) {
      reply.setCookie(bindingName, secret, binding)
    },
    clearBinding (reply) {
      reply.clearCookie(bindingName, expired(binding))
    },
    setDevice (reply, secret) {
      reply.setCookie(deviceName, secret, device)
    }
  }
}
