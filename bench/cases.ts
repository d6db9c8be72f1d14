import type { DatabaseKind, LoadSpec, SeedKind, ServerSpec } from './protocol.js'
import { BENCH_PUBLIC_URL } from './servers/bench-server.js'

// What is measured: each case is one server (a reference, the floor or handoff on one database)
// and one request shape; `reference` names the case its ratio is taken against.

export type Scenario = 'ping' | 'me' | 'refresh' | 'exchange' | 'availability'

export interface BenchCase {
  id: string
  label: string
  /** Which server process runs it (several cases share one). */
  server: string
  scenario: Scenario
  database?: DatabaseKind
  reference?: string
  /** Values spent one per request; `perSecond` sizes the pool, `fixed` reuses a set. */
  seed?: { kind: SeedKind, pool: 'perSecond' | 'fixed' }
  request: Pick<LoadSpec, 'method' | 'path' | 'headers'> & { varyIn?: 'cookie' | 'body' | 'query', varyName?: 'access' | 'refresh' | 'code' | 'nickname' }
}

const DATABASE_LABEL: Record<DatabaseKind, string> = { postgres: 'PostgreSQL', pglite: 'PGlite' }

// What the SPA sends (README "The frontend's part"), from the frontend's origin: CORS and the CSRF
// check run on every request, as they do for a frontend on another origin.
const SPA_HEADERS = { 'x-requested-with': 'fetch', origin: new URL(BENCH_PUBLIC_URL).origin }

export const REFERENCE_CASES: BenchCase[] = [
  { id: 'ref-ping', label: 'bare Fastify GET /ping', server: 'ping', scenario: 'ping', request: { method: 'GET', path: '/ping', headers: {} } },
  {
    id: 'ref-jwt',
    label: 'bare Fastify + @fastify/jwt cookie',
    server: 'jwt',
    scenario: 'me',
    reference: 'ref-ping',
    seed: { kind: 'access', pool: 'fixed' },
    request: { method: 'GET', path: '/auth/me', headers: {}, varyIn: 'cookie', varyName: 'access' }
  },
  {
    id: 'ref-jwt-cached',
    label: 'the same, fast-jwt verifier cache',
    server: 'jwt-cached',
    scenario: 'me',
    reference: 'ref-jwt',
    seed: { kind: 'access', pool: 'fixed' },
    request: { method: 'GET', path: '/auth/me', headers: {}, varyIn: 'cookie', varyName: 'access' }
  }
]

export function databaseCases (database: DatabaseKind): BenchCase[] {
  const db = DATABASE_LABEL[database]
  const floor = `floor-${database}`
  const app = `app-${database}`
  return [
    {
      id: floor,
      label: `refresh floor, raw driver (${db})`,
      server: floor,
      scenario: 'refresh',
      database,
      seed: { kind: 'refresh', pool: 'perSecond' },
      request: { method: 'POST', path: '/auth/refresh', headers: SPA_HEADERS, varyIn: 'cookie', varyName: 'refresh' }
    },
    {
      id: `me-${database}`,
      label: `handoff GET /auth/me (${db})`,
      server: app,
      scenario: 'me',
      database,
      reference: 'ref-jwt',
      seed: { kind: 'access', pool: 'fixed' },
      request: { method: 'GET', path: '/auth/me', headers: SPA_HEADERS, varyIn: 'cookie', varyName: 'access' }
    },
    {
      id: `refresh-${database}`,
      label: `handoff POST /auth/refresh (${db})`,
      server: app,
      scenario: 'refresh',
      database,
      reference: floor,
      seed: { kind: 'refresh', pool: 'perSecond' },
      request: { method: 'POST', path: '/auth/refresh', headers: SPA_HEADERS, varyIn: 'cookie', varyName: 'refresh' }
    },
    {
      id: `exchange-${database}`,
      label: `handoff POST /auth/exchange (${db})`,
      server: app,
      scenario: 'exchange',
      database,
      reference: floor,
      seed: { kind: 'code', pool: 'perSecond' },
      request: { method: 'POST', path: '/auth/exchange', headers: { ...SPA_HEADERS, 'content-type': 'application/json' }, varyIn: 'body', varyName: 'code' }
    },
    {
      id: `availability-${database}`,
      label: `handoff GET /auth/nickname/availability (${db})`,
      server: app,
      scenario: 'availability',
      database,
      seed: { kind: 'nickname', pool: 'perSecond' },
      request: { method: 'GET', path: '/auth/nickname/availability', headers: SPA_HEADERS, varyIn: 'query', varyName: 'nickname' }
    }
  ]
}

/** The server process behind each server id. */
export function serverSpec (server: string, dirs: { dataDir(): string }, databaseUrl?: string): ServerSpec {
  if (server === 'ping' || server === 'jwt' || server === 'jwt-cached') return { kind: server }
  const [kind, database] = server.split('-') as ['floor' | 'app', DatabaseKind]
  return database === 'postgres' ? { kind, database, databaseUrl } : { kind, database, dataDir: dirs.dataDir() }
}
