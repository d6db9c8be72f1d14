import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import type { NativeLogin } from './login-cookies.js'
import { nativeRedirectUrl } from './native-redirect.js'

/**
 * The frontend URL for the end of a browser step: the one-time code (or an error code) in the
 * fragment by default, which never reaches a server, a log or a Referer; in the query string when
 * HANDOFF_CODE_IN=query. Never a token.
 */
export function frontendRedirectUrl (config: Pick<Config, 'frontendUrl' | 'handoffCodeIn'>, params: Record<string, string | undefined>): string {
  const url = new URL(config.frontendUrl)
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)
  if (config.handoffCodeIn === 'query') {
    for (const [key, value] of entries) url.searchParams.set(key, value)
  } else {
    url.hash = new URLSearchParams(entries).toString()
  }
  return url.toString()
}

/**
 * Keeps `returnTo` only if it resolves to the frontend's origin, and returns it as a path.
 * `//evil.example`, `https://evil.example`, `/\evil.example` and `javascript:` all resolve elsewhere
 * (or to another scheme) and are dropped. So is a path that only becomes `//evil.example` once
 * resolved (`/.//evil.example`, `/a/..//evil.example`): the frontend hands it to `location`, which
 * reads a leading `//` as another host.
 */
export function safeReturnTo (returnTo: string | undefined, frontendOrigin: string): string | undefined {
  // Control characters and backslashes are dropped by URL parsers in ways browsers and we may not agree on.
  // eslint-disable-next-line no-control-regex
  if (returnTo === undefined || returnTo === '' || /[\u0000-\u001f\\]/.test(returnTo)) return undefined
  let url: URL
  try {
    url = new URL(returnTo, frontendOrigin)
  } catch {
    return undefined
  }
  if (url.origin !== frontendOrigin) return undefined
  const path = url.pathname + url.search + url.hash
  // Encoded too: a router that decodes the path before navigating would read `/%2F%2Fevil.example` as `//evil.example`.
  return /^\/(?:[/\\]|%2f|%5c)/i.test(path) ? undefined : path
}

/** How a browser step ended well: a one-time code for a login, the provider's id for a link. */
export type LoginOutcome = { code: string } | { linked: string }

/** The end of a callback that worked: to the frontend with its outcome (and returnTo). */
export function redirectToFrontend (reply: FastifyReply, config: Config, outcome: LoginOutcome & { returnTo?: string }): FastifyReply {
  return reply.redirect(frontendRedirectUrl(config, outcome), 302)
}

/**
 * The end of a login, well or not: a native app's login goes back to its redirect URI with its own
 * state (RFC 8252), every other one to the frontend.
 */
const loginEnd = (config: Config, native: NativeLogin | undefined, params: Record<string, string | undefined>): string =>
  native === undefined ? frontendRedirectUrl(config, params) : nativeRedirectUrl(native.redirectUri, { ...params, state: native.state })

/** The end of a login that worked: the one-time code to the frontend (with returnTo), or to the native app. */
export function redirectWithCode (reply: FastifyReply, config: Config, code: string, login: { returnTo?: string, native?: NativeLogin }): FastifyReply {
  return reply.redirect(loginEnd(config, login.native, login.native === undefined ? { code, returnTo: login.returnTo } : { code }), 302)
}

/**
 * The end of a callback that failed, whatever failed: to the frontend (or the native app that
 * started the login) with `error=<code>`, never a JSON page or a 500. Only our own failures are
 * logged as errors; a provider's or the person's is a warning.
 */
export function redirectWithLoginError (request: FastifyRequest, reply: FastifyReply, config: Config, providerId: string, error: unknown, native?: NativeLogin): FastifyReply {
  const flowError = error instanceof LoginFlowError ? error : undefined
  const code = flowError?.code ?? LoginErrorCode.serverError
  const log = { provider: providerId, error: code, reason: (error as Error).message }
  if (code === LoginErrorCode.serverError) request.log.error({ ...log, err: error }, 'login failed')
  else request.log.warn(log, 'login failed')
  // Only codes and field names, never the provider's free text: it is the provider's to word, and
  // the frontend shows our catalog's message for each (GET /auth/messages).
  const providerCode = flowError?.providerCode !== undefined && /^[A-Za-z0-9_-]{1,32}$/.test(flowError.providerCode) ? flowError.providerCode : undefined
  return reply.redirect(loginEnd(config, native, {
    error: code,
    provider: providerCode === undefined && flowError?.missing === undefined ? undefined : providerId,
    provider_code: providerCode,
    missing: flowError?.missing?.join(',')
  }), 302)
}
