// Messages between the orchestrator (bench/run.ts) and its children over Node's IPC channel.

/** What a server child runs. `app` is handoff's own buildApp; the others are references. */
export type ServerKind = 'ping' | 'jwt' | 'jwt-cached' | 'floor' | 'app'
export type DatabaseKind = 'postgres' | 'pglite'

export interface ServerSpec {
  kind: ServerKind
  /** For `floor` and `app`. */
  database?: DatabaseKind
  /** PostgreSQL URL of the throwaway database (database = postgres). */
  databaseUrl?: string
  /** Fresh directory for PGlite and the app's DATA_DIR. */
  dataDir?: string
}

/** What a scenario needs pre-issued: each value goes into exactly one request. */
export type SeedKind = 'access' | 'refresh' | 'code' | 'nickname'

export type ServerCommand =
  | { id: number, type: 'seed', seed: SeedKind, count: number }
  | { id: number, type: 'cpu-start' }
  | { id: number, type: 'cpu-stop' }
  | { id: number, type: 'close' }

export type ServerReply =
  | { id: number, type: 'seeded', values: string[] }
  | { id: number, type: 'cpu', userMicros: number, systemMicros: number, maxRssBytes: number }
  | { id: number, type: 'closed' }
  | { id: number, type: 'error', message: string }

/** Sent once, unprompted, when the server listens. */
export interface ServerReady { type: 'ready', url: string, cookieNames: { access: string, refresh: string } }

/** One autocannon run, described as data so it can cross the process boundary. */
export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  path: string
  connections: number
  durationSeconds: number
  headers: Record<string, string>
  /** Each request takes the next value: as a cookie, a JSON body field or a query parameter. */
  vary?: { in: 'cookie' | 'body' | 'query', name: string, values: string[] }
}

export interface LoadResult {
  requests: number
  /** 2xx responses. */
  ok: number
  statusCounts: Record<string, number>
  non2xx: number
  errors: number
  timeouts: number
  durationSeconds: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  /** Values left unused when the run ended: 0 means the pool ran dry and requests repeated. */
  valuesLeft: number | null
}
