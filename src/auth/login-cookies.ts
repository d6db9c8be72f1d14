import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROFILE_FIELDS, type Config, type ProfileField } from '../config.js'
import { safeEqual } from '../secrets.js'
import { hostOnlyCookie } from '../sessions/cookies.js'
import { safeReturnTo } from './handoff.js'
import { matchNativeRedirect } from './native-redirect.js'

// The short-lived cookies of one login, from its start (login, link, dev form) to the provider's
// callback: every name, flag, write, read and clear of them is here. A sibling subdomain that could
// plant them would choose the state, the verifier, the return path or the session a link goes to,
// so over https they are `__Host-`. That prefix forces Path=/, so the provider is in every name: two
// logins with different providers in one browser do not collide.

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
  link: 'link_session',
  /** A native app's login (RFC 8252): its redirect_uri (listed in NATIVE_REDIRECT_URIS) and its own state. */
  native: 'native',
  /**
   * The fields a consent repair round asked for again: set only when the callback sends the browser
   * back to the provider for them, so the next callback knows it is the second round and ends the
   * login instead of asking once more.
   */
  repair: 'consent_repair'
} as const

export type LoginCookie = keyof typeof SUFFIXES

/** A native app's login: the callback sends the code to `redirectUri`, with the app's `state` back. */
export interface NativeLogin {
  redirectUri: string
  state?: string
}

/** What the start of a login or a link asks of its callback. */
export interface LoginRequest {
  returnTo?: string
  codeChallenge?: string
  /** Only for a link: the signed-in session it links to. */
  linkSessionId?: string
  /** Only for a native app's login (never with a link): where its code goes instead of the frontend. */
  native?: NativeLogin
  /** Only for a consent repair round: the required fields the first round's profile lacked. */
  consentRepair?: ProfileField[]
}

/** What the callback finds of its login in this browser. */
export interface RememberedLogin extends LoginRequest {
  codeVerifier?: string
}

export interface LoginCookies {
  names: Record<LoginCookie, string>
  /** For setting them; clearing drops maxAge. Also handed to @fastify/oauth2 for the state and verifier. */
  options: CookieSerializeOptions
  /** The dev form's state; @fastify/oauth2 sets the state (and verifier) of every other provider. */
  setState(reply: FastifyReply, state: string): void
  /**
   * At the start of a login or a link (or of a consent repair round, which carries the first round's
   * returnTo, challenge, link and native app over). Whichever of returnTo, challenge, link, native and
   * repair this start does not set is cleared: an abandoned start leaves its cookies for 10 minutes,
   * and a plain login must not link (or fail) for an old link's session, bind its code to an old
   * challenge, go to an old page or app, or skip its own consent repair.
   */
  remember(reply: FastifyReply, login: LoginRequest): void
  /** The state a callback carries must equal the one this browser got at the start (login CSRF). */
  stateMatches(request: FastifyRequest, state: unknown): boolean
  /** At the callback, success or not: what the start remembered, and every cookie of this login cleared (a state is good for one callback). */
  take(request: FastifyRequest, reply: FastifyReply): RememberedLogin
}

const nonEmpty = (value: string | undefined) => value === '' ? undefined : value

/** The repair cookie's fields, only known ones (it may have been planted); undefined when none. */
function repairFields (value: string | undefined): ProfileField[] | undefined {
  const fields = (value ?? '').split(',').filter((field): field is ProfileField => (PROFILE_FIELDS as readonly string[]).includes(field))
  return fields.length === 0 ? undefined : [...new Set(fields)]
}

/**
 * The login cookies of one provider: `__Host-handoff_<provider>_<what>` over https (Secure, Path=/,
 * no Domain, whatever COOKIE_DOMAIN says: only this host reads them); over plain http, where no
 * prefix holds, `handoff_<provider>_<what>` sent only to that provider's callback.
 */
export function loginCookies (config: Pick<Config, 'cookies' | 'frontendOrigin' | 'prefix' | 'nativeRedirectUris'>, providerId: string): LoginCookies {
  const { secure, sameSite } = config.cookies
  const place = (suffix: string) => hostOnlyCookie(secure, `handoff_${providerId}_${suffix}`, callbackPath(config, providerId))
  const names = Object.fromEntries(Object.entries(SUFFIXES).map(([cookie, suffix]) => [cookie, place(suffix).name])) as Record<LoginCookie, string>
  const { path } = place(SUFFIXES.state)
  // Lax at least: they arrive with the provider's top-level redirect back to us.
  const options: CookieSerializeOptions = { path, httpOnly: true, secure, sameSite: sameSite === 'none' ? 'none' : 'lax', maxAge: LOGIN_COOKIE_MAX_AGE }
  const expired = { ...options, maxAge: undefined }
  const read = (request: FastifyRequest, cookie: LoginCookie) => request.cookies[names[cookie]]
  // Checked again when read, like returnTo: the cookie may have been planted, not written by our login route.
  const readNative = (value: string | undefined): NativeLogin | undefined => {
    if (value === undefined || value === '') return undefined
    const fields = new URLSearchParams(value)
    const redirectUri = matchNativeRedirect(config.nativeRedirectUris, fields.get('redirect_uri') ?? '')
    return redirectUri === undefined ? undefined : { redirectUri, state: fields.get('state') ?? undefined }
  }

  return {
    names,
    options,
    setState: (reply, state) => { reply.setCookie(names.state, state, options) },
    remember (reply, login) {
      const { native } = login
      const values: Array<[LoginCookie, string | undefined]> = [
        ['returnTo', safeReturnTo(login.returnTo, config.frontendOrigin)],
        ['challenge', login.codeChallenge],
        ['link', login.linkSessionId],
        ['native', native === undefined ? undefined : new URLSearchParams({ redirect_uri: native.redirectUri, ...(native.state === undefined ? {} : { state: native.state }) }).toString()],
        ['repair', login.consentRepair?.join(',')]
      ]
      for (const [cookie, value] of values) {
        if (value === undefined || value === '') reply.clearCookie(names[cookie], expired)
        else reply.setCookie(names[cookie], value, options)
      }
    },
    stateMatches (request, state) {
      const expected = read(request, 'state')
      return typeof state === 'string' && typeof expected === 'string' && expected !== '' && safeEqual(state, expected)
    },
    take (request, reply) {
      const linkSessionId = nonEmpty(read(request, 'link'))
      const remembered = {
        // Checked again: the cookie may have been planted, not written by our login route.
        returnTo: safeReturnTo(read(request, 'returnTo'), config.frontendOrigin),
        codeChallenge: nonEmpty(read(request, 'challenge')),
        linkSessionId,
        // A link ends in the browser that started it, never in an app.
        native: linkSessionId === undefined ? readNative(read(request, 'native')) : undefined,
        codeVerifier: nonEmpty(read(request, 'verifier')),
        consentRepair: repairFields(read(request, 'repair'))
      }
      for (const name of Object.values(names)) reply.clearCookie(name, expired)
      return remembered
    }
  }
}
