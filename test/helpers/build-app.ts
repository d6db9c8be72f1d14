import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { HandoffHooks } from '../../src/lifecycle-hooks.js'
import type { Provider } from '../../src/providers/provider.js'
import { freshTestDatabase } from './database.js'

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long'
/** PROVIDER_TOKEN_KEYS of the tests (32 bytes, base64): without it a test app would generate one under ./data. */
export const TEST_PROVIDER_TOKEN_KEY = Buffer.alloc(32, 7).toString('base64')
export const FRONTEND_URL = 'http://frontend.test/auth/done'
// Loopback, as a developer's machine: DEV_LOGIN is refused on any other PUBLIC_URL.
export const PUBLIC_URL = 'http://localhost'

/** A clock that stands still until a test moves it. */
export class FakeClock {
  constructor (private current = new Date('2026-11-23T12:00:00Z').getTime()) {}
  now = (): Date => new Date(this.current)
  advance (seconds: number): void { this.current += seconds * 1000 }
}

export interface TestApp {
  app: FastifyInstance
  config: Readonly<Config>
  clock: FakeClock
  /** Every log line the app wrote, parsed (filled when logs: true). */
  logs: Array<Record<string, unknown>>
  /** The raw log output, for "this string never appears" checks. */
  rawLogs(): string
  /** The database's connection URL, for a second instance (PostgreSQL only). */
  databaseUrl?: string
}

interface Tap { teardown(fn: () => unknown): void }

/** Builds the real app on a fresh database with test settings (an `undefined` in `env` unsets one); closed and dropped at teardown. */
export async function buildTestApp (t: Tap, env: Record<string, string | undefined> = {}, options: { logs?: boolean, clock?: FakeClock, hooks?: HandoffHooks, providers?: Provider[] } = {}): Promise<TestApp> {
  const settings: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY,
    PUBLIC_URL,
    FRONTEND_URL,
    LOG_LEVEL: options.logs === true ? 'info' : 'silent',
    ...env
  }
  const config = loadConfig(Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Record<string, string>)
  const database = await freshTestDatabase()
  const chunks: string[] = []
  const logs: Array<Record<string, unknown>> = []
  const logStream = new Writable({
    write (chunk, _encoding, done) {
      chunks.push(String(chunk))
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line))
      done()
    }
  })
  const clock = options.clock ?? new FakeClock()
  const app = await buildApp({ config, database: database.target, logStream, clock, hooks: options.hooks, providers: options.providers })
  t.teardown(() => app.close())
  return { app, config, clock, logs, rawLogs: () => chunks.join(''), databaseUrl: database.url }
}
