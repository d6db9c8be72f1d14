import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET } from './build-app.js'
import { freshTestDatabase } from './database.js'

interface Tap { teardown(fn: () => unknown): void }

/**
 * Apps on one database, each with its own settings over the test defaults: the same deployment
 * before and after a setting changed (a provider's OpenID Connect mode turned on). The database is
 * emptied once, when this is called.
 */
export async function appsOnOneDatabase (t: Tap): Promise<(env: Record<string, string>) => Promise<FastifyInstance>> {
  const database = await freshTestDatabase()
  return async env => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent', ...env })
    const app = await buildApp({ config, database: database.target })
    t.teardown(() => app.close())
    return app
  }
}
