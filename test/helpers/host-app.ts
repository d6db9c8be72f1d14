import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import handoff, { type Clock, type HandoffHooks, type Provider, type SessionRevokedEvent } from '../../src/index.js'
import type { DatabaseTarget } from '../../src/db/database.js'
import { FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from './build-app.js'

export type Revocation = Omit<SessionRevokedEvent, 'request'>

export interface HostApp {
  app: FastifyInstance
  /** Every onSessionRevoked event, without its request. */
  revocations: Revocation[]
  /** Every log line, parsed. */
  logs(): Array<Record<string, unknown>>
  rawLogs(): string
}

interface Tap { teardown(fn: () => unknown): void }

/**
 * handoff registered in a plain Fastify app, as a user's own server would, with a route of the
 * host's own behind `app.authenticate`: GET /api/whoami.
 */
export async function buildHostApp (t: Tap, options: { database: DatabaseTarget, env?: Record<string, string>, clock?: Clock, hooks?: HandoffHooks, providers?: Provider[], routes?: (app: FastifyInstance) => void }): Promise<HostApp> {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { chunks.push(String(chunk)); done() } })
  const revocations: Revocation[] = []
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(handoff, {
    settings: { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, ...options.env },
    database: options.database,
    clock: options.clock,
    providers: options.providers,
    hooks: options.hooks ?? { onSessionRevoked: ({ request: _request, ...event }) => { revocations.push(event) } }
  })
  app.get('/api/whoami', { preHandler: app.authenticate }, async request => ({ id: request.user.id }))
  options.routes?.(app)
  await app.ready()
  t.teardown(() => app.close())
  const rawLogs = () => chunks.join('')
  return { app, revocations, rawLogs, logs: () => rawLogs().split('\n').filter(Boolean).map(line => JSON.parse(line)) }
}

/** The statuses of /auth/me and the host's own route for this access token. */
export async function statusesFor (app: FastifyInstance, accessToken: string): Promise<number[]> {
  return Promise.all(['/auth/me', '/api/whoami'].map(async url => (await app.inject({ url, cookies: { handoff_access: accessToken } })).statusCode))
}

/** Polls until both routes refuse the token, for at most `ms`; the statuses seen last. */
export async function refusedWithin (app: FastifyInstance, accessToken: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const statuses = await statusesFor(app, accessToken)
    if (statuses.every(status => status === 401) || Date.now() > deadline) return statuses
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
