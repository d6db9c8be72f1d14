import fastifyCookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { DestinationStream } from 'pino'
import { authPlugin } from './auth/index.js'
import { loadConfig, type Config } from './config.js'
import { databaseTarget, type DatabaseTarget } from './db/database.js'
import { demoPage } from './demo.js'
import { healthRoutes } from './health.js'
import type { HandoffHooks } from './lifecycle-hooks.js'
import { AccessLog, createLogger } from './logger.js'
import { clientErrorHandler, frameworkErrors } from './plugins/client-error.js'
import database from './plugins/database.js'
import devHostRedirect from './plugins/dev-host-redirect.js'
import errorHandler from './plugins/error-handler.js'
import openapi from './plugins/openapi.js'
import rateLimit from './plugins/rate-limit.js'
import security from './plugins/security.js'
import { enabledProviders } from './providers/index.js'
import { sessionCookies } from './sessions/cookies.js'
import { jwksRoutes } from './sessions/jwks-route.js'
import { sessionRoutes } from './sessions/routes.js'
import purge from './sessions/purge.js'
import sessionRevocations from './sessions/revocations.js'
import accessTokens from './sessions/tokens.js'
import { identityRoutes } from './users/identities-route.js'
import { userRoutes } from './users/routes.js'
import type { Clock, HandoffNamespace } from './namespace.js'

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
}

/**
 * Everything handoff adds to a Fastify instance, in order: the table of contents of the server.
 * Wrapped with fastify-plugin, so `authenticate`, `request.user` and the error format reach the
 * host app's own routes.
 */
async function registerHandoff (app: FastifyInstance, options: HandoffOptions) {
  const config = options.config ?? loadConfig(options.settings ?? process.env)
  const hooks = options.hooks ?? {}
  // One namespace, filled in by the plugins below (db, accessTokens, sessionRevocations).
  const namespace: Pick<HandoffNamespace, 'config' | 'clock'> = { config, clock: options.clock ?? { now: () => new Date() } }
  app.decorate('handoff', namespace as HandoffNamespace)
  const cookies = sessionCookies(config)
  const providers = enabledProviders(config)

  await app.register(errorHandler)
  await app.register(security, { config })
  const target = options.database ?? databaseTarget(config)
  await app.register(database, { config, target })
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)
  await app.register(openapi, { config })
  // The revocation listener's own connection needs the URL; no decorator carries it (nor its password).
  await app.register(sessionRevocations, { config, hooks, postgresUrl: target.kind === 'postgres' ? target.url : undefined })
  await app.register(accessTokens, { config })
  await app.register(rateLimit, { config })
  await app.register(purge)

  await app.register(healthRoutes)
  await app.register(jwksRoutes)
  await app.register(authPlugin, { prefix: '/auth', config, providers, cookies, hooks })
  await app.register(sessionRoutes, { prefix: '/auth', config, cookies })
  await app.register(userRoutes, { prefix: '/users', cookies, hooks })
  await app.register(identityRoutes, { prefix: '/users', hooks })
  if (config.demoApp) await app.register(demoPage)
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
