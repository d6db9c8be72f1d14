import fastifyCors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { CsrfRejectedError } from '../errors.js'

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

/**
 * Headers, CORS and CSRF for every route.
 * - CSRF: a route marked `config.csrf` needs the custom header X-Requested-With (a cross-site page
 *   cannot send it without a CORS preflight, which only allowed origins pass) and, when the browser
 *   says where the request comes from, an allowed origin. A form posted from another site can never
 *   sign someone out, into the attacker's account, or change their nickname.
 * - CORS with credentials for FRONTEND_ORIGINS (and the frontend's own origin) only.
 * - Helmet's headers everywhere; `Cache-Control: no-store` on every auth and account response.
 */
async function security (app: FastifyInstance, { config }: { config: Config }) {
  const allowed = new Set([...config.allowedOrigins, new URL(config.publicUrl).origin])

  await app.register(fastifyHelmet, {
    // Swagger UI and the demo load only same-origin scripts; the dev login page has inline styles.
    contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:', 'https:'], 'form-action': ["'self'"] } },
    strictTransportSecurity: config.cookies.secure,
    // The provider redirect sends people back to us: keep Referer out of cross-origin requests.
    referrerPolicy: { policy: 'no-referrer' }
  })
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'X-Requested-With'],
    maxAge: 600
  })

  app.addHook('onRequest', async request => {
    if (request.routeOptions.config.csrf !== true) return
    if (request.headers['x-requested-with'] === undefined) throw new CsrfRejectedError('Missing the X-Requested-With header required on this route')
    const origin = requestOrigin(request)
    if (origin !== undefined && !allowed.has(origin)) throw new CsrfRejectedError(`Requests from ${origin} are not allowed`)
  })

  app.addHook('onSend', async (request, reply) => {
    const path = request.url
    if (path.startsWith('/auth/') || path.startsWith('/users/')) reply.header('cache-control', 'no-store')
  })
}

export default fp(security, { name: 'security' })
