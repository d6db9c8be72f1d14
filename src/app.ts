import fastifyCookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { authPlugin } from './auth/index.js'
import type { Config } from './config.js'
import type { DatabaseTarget } from './db/database.js'
import { demoPage } from './demo.js'
import { healthRoutes } from './health.js'
import { loggerOptions } from './logger.js'
import database from './plugins/database.js'
import errorHandler from './plugins/error-handler.js'
import openapi from './plugins/openapi.js'
import rateLimit from './plugins/rate-limit.js'
import security from './plugins/security.js'
import { enabledProviders } from './providers/index.js'
import { sessionCookies } from './sessions/cookies.js'
import { sessionRoutes } from './sessions/routes.js'
import accessTokens from './sessions/tokens.js'
import { userRoutes } from './users/routes.js'

export interface Clock { now(): Date }

declare module 'fastify' {
  interface FastifyInstance {
    config: Readonly<Config>
    clock: Clock
  }
}

export interface BuildAppOptions {
  config: Readonly<Config>
  /** Overrides the database chosen by the config (tests pass a fresh one). */
  database?: DatabaseTarget
  /** Where log lines go (tests capture them). Default: stdout. */
  logStream?: DestinationStream
  /** Tests move time forward instead of sleeping. */
  clock?: Clock
}

/** Builds the whole app, ready to listen or to inject into. The table of contents of the server. */
export async function buildApp ({ config, database: target, logStream, clock = { now: () => new Date() } }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, logStream),
    trustProxy: config.trustProxy,
    bodyLimit: 16 * 1024,
    // Keep 4xx for unknown JSON fields out of the way: extra fields are rejected by each schema.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  app.decorate('clock', clock)
  const cookies = sessionCookies(config)
  const providers = enabledProviders(config)

  await app.register(errorHandler)
  await app.register(security, { config })
  await app.register(database, { config, target })
  await app.register(fastifyCookie)
  await app.register(openapi, { config })
  await app.register(accessTokens, { config })
  await app.register(rateLimit, { config })

  await app.register(healthRoutes)
  await app.register(authPlugin, { prefix: '/auth', config, providers, cookies })
  await app.register(sessionRoutes, { prefix: '/auth', config, cookies })
  await app.register(userRoutes, { prefix: '/users', cookies })
  if (config.demoApp) await app.register(demoPage)

  await app.ready()
  return app
}
