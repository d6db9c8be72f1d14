import fastifyCookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { DestinationStream } from 'pino'
import { authPlugin } from './auth/index.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { databaseTarget, type DatabaseTarget } from './db/database.js'
import { demoPage } from './demo.js'
import { healthRoutes } from './health.js'
import type { HandoffHooks } from './lifecycle-hooks.js'
import { AccessLog, createLogger } from './logger.js'
import { messageRoutes } from './messages/routes.js'
import { clientErrorHandler, frameworkErrors } from './plugins/client-error.js'
import database from './plugins/database.js'
import devHostRedirect from './plugins/dev-host-redirect.js'
import { handleError, handleNotFound, installErrorHandlers } from './plugins/error-handler.js'
import openapi from './plugins/openapi.js'
import rateLimit from './plugins/rate-limit.js'
import security, { addSecurityHeaders } from './plugins/security.js'
import { enabledProviders } from './providers/index.js'
import grantRevocations from './providers/grant-revocations.js'
import type { Provider } from './providers/provider.js'
import providerTokens from './providers/provider-tokens.js'
import tokenVault from './providers/token-vault.js'
import { sharedSchemas } from './schemas/common.js'
import { sessionCookies } from './sessions/cookies.js'
import { jwksRoutes } from './sessions/jwks-route.js'
import { sessionRoutes } from './sessions/routes.js'
import purge from './sessions/purge.js'
import sessionRevocations from './sessions/revocations.js'
import accessTokens from './sessions/access-tokens.js'
import { userRoutes } from './users/routes.js'
import { SignupProfileSchema, UserProfileSchema } from './users/schemas.js'
import type { Clock } from './clock.js'
import type { HandoffNamespace } from './namespace.js'

export interface HandoffOptions {
  /**
   * Settings named and validated exactly like the environment of the standalone server
   * (`{ JWT_SECRET: '…', GITHUB_CLIENT_ID: '…' }`, see .env.example). Default: `process.env`.
   */
  settings?: Record<string, string | undefined>
  /** Already loaded settings (`loadConfig(…)`); wins over `settings`. */
  config?: Readonly<Config>
  hooks?: HandoffHooks
  /** Overrides the database chosen by the config (tests pass a fresh one). */
  database?: DatabaseTarget
  /** Tests move time forward instead of sleeping. */
  clock?: Clock
  /**
   * Your own providers (LINE, Discord, an in-house OAuth server), listed after the configured ones.
   * An id must be new and fit /auth/<id>/… and cookie names; see docs/providers.md.
   */
  providers?: Provider[]
  /**
   * Mounts handoff's routes under this path: with `'/api'`, /api/auth/…, /api/users/…, /api/health,
   * /api/docs and /api/.well-known/jwks.json. The provider callback URLs
   * (`PUBLIC_URL` + prefix + `/auth/<provider>/callback`), the cookie paths and the `loginUrl`s of
   * `/auth/providers` follow it; `PUBLIC_URL` stays your server's address, without the prefix.
   * (fastify-plugin ignores Fastify's own `prefix`: handoff reads it from here.) Default: none.
   */
  prefix?: string
  /**
   * `false`: handoff registers no @fastify/cors (your proxy or your own plugin answers CORS).
   * Default: ours, for FRONTEND_URL's origin and FRONTEND_ORIGINS, unless your app registered
   * @fastify/cors before handoff: then yours answers for handoff's routes too.
   */
  cors?: boolean
  /**
   * `false`: no OpenAPI document or Swagger UI from handoff. Default: both at /docs (under the
   * prefix), listing your routes too, unless your app registered @fastify/swagger before handoff:
   * then handoff's routes appear in your document.
   */
  openapi?: boolean
  /** `false`: no GET /health from handoff. Default: ours, unless your app already has GET /health (under the prefix). */
  health?: boolean
  /**
   * Handoff's routes always answer errors and unknown /auth/… and /users/… paths as
   * `{ statusCode, code, error, message }`. `'global'` (default): your routes and every other unknown
   * URL too, unless your app set its own error handler or not-found handler before registering
   * handoff: that one stays in charge. `'scoped'`: handoff's routes only.
   */
  errorHandler?: 'global' | 'scoped'
}

/** `'/api'`, `'api/'` → `'/api'`; none, `''` or `'/'` → `''`. */
function routePrefix (prefix: unknown = ''): string {
  if (typeof prefix !== 'string') throw new ConfigError(`Invalid option prefix: must be a path like '/api', not ${JSON.stringify(prefix)}`)
  const path = prefix.replace(/^\/+|\/+$/g, '')
  if (path === '') return ''
  // No `.` or `..` segment: browsers and providers normalize them away, so routes and cookie paths would never match.
  if (!/^[\w.~-]+(\/[\w.~-]+)*$/.test(path) || path.split('/').some(segment => /^\.+$/.test(segment))) {
    throw new ConfigError(`Invalid option prefix: must be a path like '/api', not '${prefix}'`)
  }
  return `/${path}`
}

/** Options a JavaScript caller may get wrong: a clear start error instead of a silent default. */
function checkOptions (options: HandoffOptions): void {
  for (const option of ['cors', 'openapi', 'health'] as const) {
    if (options[option] !== undefined && typeof options[option] !== 'boolean') throw new ConfigError(`Invalid option ${option}: must be true or false`)
  }
  if (options.errorHandler !== undefined && options.errorHandler !== 'global' && options.errorHandler !== 'scoped') throw new ConfigError('Invalid option errorHandler: must be \'global\' or \'scoped\'')
  if (options.providers !== undefined && !Array.isArray(options.providers)) throw new ConfigError('Invalid option providers: must be an array of providers')
}

/**
 * Everything handoff adds to a Fastify instance, in order: the table of contents of the server.
 * Wrapped with fastify-plugin, so `authenticate`, `request.user`, the CSRF check and CORS reach the
 * host app's own routes; the routes live in one encapsulated plugin (`handoffRoutes`), so their
 * error handler, schemas and rate limits stay theirs.
 */
async function registerHandoff (app: FastifyInstance, options: HandoffOptions) {
  checkOptions(options)
  const ownPrefix = routePrefix(options.prefix)
  // app.prefix: handoff registered inside a host plugin that has a prefix of its own.
  const config: Readonly<Config> = Object.freeze({ ...(options.config ?? loadConfig(options.settings ?? process.env)), prefix: app.prefix + ownPrefix })
  const hooks = options.hooks ?? {}
  // One namespace, filled in by the plugins below (db, accessTokens, sessionRevocations).
  const namespace: Pick<HandoffNamespace, 'config' | 'clock'> = { config, clock: options.clock ?? { now: () => new Date() } }
  app.decorate('handoff', namespace as HandoffNamespace)
  const cookies = sessionCookies(config)
  // What the host app registered first is reused: a second @fastify/cors, @fastify/swagger or
  // GET /health would throw, a second set of headers would overwrite its helmet's.
  const host = {
    cors: app.hasPlugin('@fastify/cors'),
    swagger: app.hasPlugin('@fastify/swagger'),
    helmet: app.hasPlugin('@fastify/helmet'),
    health: app.hasRoute({ method: 'GET', url: `${config.prefix}/health` })
  }

  await app.register(security, { config, cors: options.cors !== false && !host.cors, headers: !host.helmet })
  const target = options.database ?? databaseTarget(config)
  await app.register(database, { config, target })
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)
  if (options.openapi !== false && !host.swagger) await app.register(openapi, { config, routePrefix: ownPrefix, cookies: { access: cookies.accessName, refresh: cookies.refreshName, signup: cookies.signupName } })
  // The revocation listener's own connection needs the URL; no decorator carries it (nor its password).
  await app.register(sessionRevocations, { config, hooks, postgresUrl: target.kind === 'postgres' ? target.url : undefined })
  await app.register(accessTokens, { config })
  // PROVIDER_TOKEN_KEYS parsed (a bad one stops the start here), or the development key under DATA_DIR.
  await app.register(tokenVault, { config })
  await app.register(purge)
  if (options.errorHandler !== 'scoped') installErrorHandlers(app)

  await app.register(async function handoffRoutes (routes: FastifyInstance) {
    routes.setErrorHandler(handleError)
    if (host.helmet) addSecurityHeaders(routes, config)
    for (const subtree of ['/auth', '/users']) await routes.register(async scope => { scope.setNotFoundHandler(handleNotFound) }, { prefix: subtree })
    // Here, not on the host app: its own `Error` or `User` schema must not collide with ours.
    for (const schema of [...sharedSchemas, SignupProfileSchema, UserProfileSchema]) routes.addSchema(schema)
    // In the host's own document our security schemes do not exist, and @fastify/swagger throws on
    // an unknown one: the routes are listed without their `security`.
    if (host.swagger) routes.addHook('onRoute', route => { if (route.schema?.security) route.schema = { ...route.schema, security: undefined } })
    await routes.register(rateLimit, { config })
    // OpenID Connect discovery: an issuer that cannot be read stops the start here, naming its setting.
    const providers = await enabledProviders(config, options.providers)
    // app.handoff.providerAccessToken and the background revocation of grants need the providers.
    await routes.register(providerTokens, { providers })
    await routes.register(grantRevocations, { providers })
    // Before the routes, which it hooks as they are added; prom-client loads only when metrics are on.
    if (config.metrics !== undefined) await routes.register((await import('./plugins/metrics.js')).default, { config, providers })

    if (options.health !== false && !host.health) await routes.register(healthRoutes)
    await routes.register(jwksRoutes)
    await routes.register(authPlugin, { prefix: '/auth', config, providers, cookies, hooks })
    await routes.register(messageRoutes, { prefix: '/auth', config })
    await routes.register(sessionRoutes, { prefix: '/auth', config, cookies })
    await routes.register(userRoutes, { config, cookies, hooks })
    if (config.demoApp) await routes.register(demoPage)
  }, { prefix: ownPrefix })
}

/** `app.register(handoff, options)` in your own Fastify app. */
export const handoff = fp(registerHandoff, { fastify: '5.x', name: 'handoff' })

export interface BuildAppOptions extends Omit<HandoffOptions, 'settings' | 'config'> {
  config: Readonly<Config>
  /** Where log lines go (tests capture them). Default: stdout. */
  logStream?: DestinationStream
}

/**
 * TRUST_PROXY=<n>: the last n addresses (the peer, then X-Forwarded-For from the right) are proxies.
 * Fastify now treats a number as "trust nothing", because a count cannot tell a proxy from a client
 * that reaches the port directly; docs/deployment.md says to let only the proxies reach it, or to
 * list their addresses instead.
 */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops

/** The standalone server: a Fastify instance with our logger and limits, and handoff in it. */
export async function buildApp ({ logStream, ...options }: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options
  const logger = createLogger(config, logStream)
  if (config.trustProxy === true) {
    logger.warn('TRUST_PROXY=true believes every X-Forwarded-For entry, and a client writes the left-most ones itself: anyone can forge the address the rate limits and the sessions list see. Set TRUST_PROXY=1 (the number of proxies in front of handoff) or their addresses/CIDRs; see docs/deployment.md')
  }
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new AccessLog(logger),
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: 16 * 1024,
    // The embedded database's first start (initdb, then migrations) can take well over Fastify's
    // default 10 s on a slow or busy machine: slow is fine, failing to start is not.
    pluginTimeout: 120_000,
    clientErrorHandler,
    frameworkErrors,
    // Keep 4xx for unknown JSON fields out of the way: extra fields are rejected by each schema.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } }
  }).withTypeProvider<TypeBoxTypeProvider>()
  if (config.nodeEnv === 'development') await app.register(devHostRedirect, { publicUrl: config.publicUrl })
  await app.register(handoff, options)
  await app.ready()
  return app
}
