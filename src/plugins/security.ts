import type { IncomingMessage, ServerResponse } from 'node:http'
import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import type { Config } from '../config.js'
import { csrfHeaderMissing, csrfOriginNotAllowed } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A state-changing route that reads or sets session cookies: refuse cross-site requests. */
    csrf?: boolean
  }
}

/** The origin a request claims to come from: Origin, or the Referer's origin when Origin is absent. */
function requestOrigin (request: FastifyRequest): string | undefined {
  const origin = request.headers.origin
  if (typeof origin === 'string' && origin !== '') return origin
  const referer = request.headers.referer
  if (typeof referer !== 'string' || referer === '') return undefined
  try {
    return new URL(referer).origin
  } catch {
    return 'invalid'
  }
}

const isBearerRequest = (request: FastifyRequest): boolean => /^bearer\s/i.test(String(request.headers.authorization ?? ''))

/**
 * The headers helmet would set, computed once. @fastify/helmet calls `helmet(options)` again on every
 * request (parsing the CSP each time) from two hooks; with static options the result never changes,
 * so we run helmet once against a recording response and replay its headers.
 */
function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {})
  return headers
}

/** Adds a hook to one route, in front of the hooks the route already has. */
function prependRouteHook (route: RouteOptions, hook: onRequestHookHandler) {
  const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
  route.onRequest = [hook, ...existing]
}

/**
 * Headers, CORS and CSRF for every route, at the lowest cost per request (every API call of our
 * users' apps passes through here: see docs/performance.md).
 * - CSRF: a route marked `config.csrf` needs the custom header X-Requested-With (a cross-site page
 *   cannot send it without a CORS preflight, which only allowed origins pass) and, when the browser
 *   says where the request comes from, an allowed origin. A form posted from another site can never
 *   sign someone out, into the attacker's account, or change their nickname. Added to those routes
 *   only, so other routes do not pay for it. A request with `Authorization: Bearer` and no cookie (a
 *   native app's) is exempt: nothing in it is sent by a browser on its own.
 * - CORS with credentials for FRONTEND_ORIGINS (and the frontend's own origin) only, unless `cors`
 *   is false (a host app's own @fastify/cors, or none).
 * - Helmet's headers (addSecurityHeaders) everywhere, unless `headers` is false: a host app with
 *   its own @fastify/helmet keeps its headers on its routes, and app.ts adds ours to our routes.
 */
async function security (app: FastifyInstance, { config, cors, headers }: { config: Config, cors: boolean, headers: boolean }) {
  const allowed = new Set([...config.allowedOrigins, new URL(config.publicUrl).origin])
  if (headers) addSecurityHeaders(app, config)

  if (cors) {
    await app.register(fastifyCors, {
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Content-Type', 'X-Requested-With'],
      maxAge: 600
    })
  }

  const csrfCheck: onRequestHookHandler = (request, _reply, done) => {
    // A native app's request, authorized by its bearer token alone, carries no ambient authority: a
    // page on another site can send neither that header (not without a preflight, which only allowed
    // origins pass) nor the token. With any cookie at all, the check stays: a cookie is what a
    // forged request would ride on, and the bearer token never stands in for one (access-tokens.ts).
    if (request.headers.cookie === undefined && isBearerRequest(request)) return done()
    if (request.headers['x-requested-with'] === undefined) return done(csrfHeaderMissing())
    const origin = requestOrigin(request)
    if (origin !== undefined && !allowed.has(origin)) return done(csrfOriginNotAllowed(origin))
    done()
  }
  app.addHook('onRoute', route => {
    if (route.config?.csrf === true) prependRouteHook(route, csrfCheck)
  })
}

/**
 * Helmet's headers on every response of `app` (404s and errors included), and `Cache-Control:
 * no-store` on every auth and account response, both set by one hook (GET /auth/messages, the same
 * public catalog for everyone, overrides it).
 */
export function addSecurityHeaders (app: FastifyInstance, config: Config): void {
  const headers = helmetHeaders({
    // Swagger UI and the demo load only same-origin scripts; the dev login page has inline styles.
    contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:', 'https:'], 'form-action': ["'self'"] } },
    strictTransportSecurity: config.cookies.secure,
    // The provider redirect sends people back to us: keep Referer out of cross-origin requests.
    referrerPolicy: { policy: 'no-referrer' }
  })
  const noStoreHeaders = { ...headers, 'cache-control': 'no-store' }
  const [auth, users] = [`${config.prefix}/auth/`, `${config.prefix}/users/`]
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.url
    reply.headers(url.startsWith(auth) || url.startsWith(users) ? noStoreHeaders : headers)
    done()
  })
}

export default fp(security, { name: 'security' })
