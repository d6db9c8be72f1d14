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

/** A login may take this long on the provider's pages before its binding cookie expires. */
const BINDING_MAX_AGE = 900

interface CookiePlacement { name: string, path: string, domain?: string }

/**
 * A cookie no other host may write, where browsers can enforce it: over https the name takes
 * `__Host-`, which a browser accepts only with Secure, Path=/ and no Domain, so neither a sibling
 * subdomain nor a plain-http page can plant or overwrite it. Over plain http (development) no prefix
 * holds: the bare name, on the narrowest path that still reaches its readers.
 */
export const hostOnlyCookie = (secure: boolean, name: string, narrowPath: string): CookiePlacement =>
  secure ? { name: `__Host-${name}`, path: '/' } : { name, path: narrowPath }

type CookieConfig = Pick<Config, 'cookies' | 'prefix' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'signupTtlSeconds' | 'sessionMaxLifetimeSeconds'>

/**
 * Cookie names and flags for a configuration. Always HttpOnly; over https all `__Host-`
 * (hostOnlyCookie), so none can be planted from a sibling subdomain. With COOKIE_DOMAIN the access
 * and refresh cookies are shared with sibling subdomains instead, which `__Host-` forbids: they take
 * `__Secure-` (still Secure-only) and the Domain. The signup, binding and device cookies never need
 * a Domain (only this host sets and reads them), so they stay `__Host-` even then.
 */
export function sessionCookies ({ cookies, prefix, accessTokenTtlSeconds, refreshTokenTtlSeconds, signupTtlSeconds, sessionMaxLifetimeSeconds }: CookieConfig): SessionCookies {
  const { secure, domain, sameSite } = cookies
  const shared = (name: string, narrowPath: string): CookiePlacement => domain === undefined
    ? hostOnlyCookie(secure, name, narrowPath)
    : { name: secure ? `__Secure-${name}` : name, path: narrowPath, domain }
  // Over plain http, the refresh, signup, binding and device cookies only travel to the auth routes.
  const authPath = `${prefix}/auth`
  const accessCookie = shared('handoff_access', '/')
  const refreshCookie = shared('handoff_refresh', authPath)
  const signupCookie = hostOnlyCookie(secure, 'handoff_signup', authPath)
  const bindingCookie = hostOnlyCookie(secure, 'handoff_binding', authPath)
  const deviceCookie = hostOnlyCookie(secure, 'handoff_device', authPath)
  const options = ({ path, domain }: CookiePlacement, more: CookieSerializeOptions): CookieSerializeOptions =>
    ({ httpOnly: true, secure, sameSite, path, ...(domain === undefined ? {} : { domain }), ...more })
  const accessName = accessCookie.name
  const refreshName = refreshCookie.name
  const signupName = signupCookie.name
  const bindingName = bindingCookie.name
  const deviceName = deviceCookie.name
  const access = options(accessCookie, { maxAge: accessTokenTtlSeconds })
  // No session outlives SESSION_MAX_LIFETIME_SECONDS, so neither does its refresh cookie.
  const refreshLifetime = Math.min(refreshTokenTtlSeconds, sessionMaxLifetimeSeconds)
  const refresh = options(refreshCookie, { maxAge: refreshLifetime })
  const signup = options(signupCookie, { maxAge: signupTtlSeconds })
  // Read at the provider's callback, a cross-site navigation: Strict would never arrive there.
  const binding = options(bindingCookie, { sameSite: sameSite === 'none' ? 'none' : 'lax', maxAge: BINDING_MAX_AGE })
  // As long as any session opened with it can live; kept on logout (it names the browser, not a session).
  const device = options(deviceCookie, { maxAge: sessionMaxLifetimeSeconds })
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
