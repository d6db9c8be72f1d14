import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { hostOnlyCookie } from '../sessions/cookies.js'

// The short-lived cookies of one login, from its start (login, link) to the provider's callback.
// A sibling subdomain that could plant them would choose the state, the verifier, the return path
// or the session a link goes to, so over https they are `__Host-`. That prefix forces Path=/, so the
// provider is in every name: two logins with different providers in one browser do not collide.

export const callbackPath = (config: Pick<Config, 'prefix'>, providerId: string) => `${config.prefix}/auth/${providerId}/callback`

/** How long a person may take on the provider's pages. */
const LOGIN_COOKIE_MAX_AGE = 600

const SUFFIXES = {
  /** The OAuth state: the callback's query must carry the same value (login CSRF). */
  state: 'state',
  /** The PKCE verifier @fastify/oauth2 sends to the token endpoint. */
  verifier: 'verifier',
  /** Where the frontend goes back to, already checked by safeReturnTo (and checked again when read). */
  returnTo: 'return_to',
  /** The frontend's PKCE-style challenge the one-time code will be bound to. */
  challenge: 'code_challenge',
  /** The session a link started from (/auth/:provider/link): the callback links for it alone. */
  link: 'link_session'
} as const

export type LoginCookie = keyof typeof SUFFIXES

export interface LoginCookies {
  names: Record<LoginCookie, string>
  /** For setting them; clearing drops maxAge. Also handed to @fastify/oauth2 for the state and verifier. */
  options: CookieSerializeOptions
  set(reply: FastifyReply, cookie: LoginCookie, value: string): void
  read(request: FastifyRequest, cookie: LoginCookie): string | undefined
  /** At the callback, success or not: a state is good for one callback. */
  clear(reply: FastifyReply): void
}

/**
 * The names and flags of one provider's login cookies: `__Host-handoff_<provider>_<what>` over
 * https (Secure, Path=/, no Domain, whatever COOKIE_DOMAIN says: only this host reads them); over
 * plain http, where no prefix holds, `handoff_<provider>_<what>` sent only to that provider's callback.
 */
export function loginCookies (config: Pick<Config, 'cookies' | 'prefix'>, providerId: string): LoginCookies {
  const { secure, sameSite } = config.cookies
  const place = (suffix: string) => hostOnlyCookie(secure, `handoff_${providerId}_${suffix}`, callbackPath(config, providerId))
  const names = Object.fromEntries(Object.entries(SUFFIXES).map(([cookie, suffix]) => [cookie, place(suffix).name])) as Record<LoginCookie, string>
  const { path } = place(SUFFIXES.state)
  // Lax at least: they arrive with the provider's top-level redirect back to us.
  const options: CookieSerializeOptions = { path, httpOnly: true, secure, sameSite: sameSite === 'none' ? 'none' : 'lax', maxAge: LOGIN_COOKIE_MAX_AGE }
  const expired = { ...options, maxAge: undefined }
  return {
    names,
    options,
    set: (reply, cookie, value) => { reply.setCookie(names[cookie], value, options) },
    read: (request, cookie) => request.cookies[names[cookie]],
    clear: reply => { for (const name of Object.values(names)) reply.clearCookie(name, expired) }
  }
}
