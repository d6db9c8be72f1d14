import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import type { Config } from '../config.js'
import { PrismaClient } from '../generated/prisma/client.js'
import { createPglite } from './pglite.js'

/** The few SQL calls the hot paths need, on whichever database is configured. */
export interface Sql {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>
  /** Runs several statements (a migration file) with no parameters. */
  exec(text: string): Promise<void>
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>
}

export interface Database {
  kind: 'pglite' | 'postgres'
  sql: Sql
  /** For everything off the hot path. Shares the connection (PGlite) or pool (PostgreSQL) with `sql`. */
  prisma: PrismaClient
  /** PostgreSQL only: the pool's connections and the queries waiting for one, right now (metrics). */
  poolStats?: () => { total: number, idle: number, waiting: number }
  close(): Promise<void>
}

export type DatabaseTarget =
  | { kind: 'postgres', url: string, poolSize?: number }
  | { kind: 'pglite', dataDir?: string, instance?: PGlite }

/** PGlite under DATA_DIR by default; PostgreSQL when DATABASE_URL is set. */
export function databaseTarget (config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize'>): DatabaseTarget {
  return config.databaseUrl === undefined
    ? { kind: 'pglite', dataDir: path.resolve(config.dataDir, 'pglite') }
    : { kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize }
}

export async function openDatabase (target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target.url, target.poolSize) : openPglite(target)
}

async function openPglite (target: { dataDir?: string, instance?: PGlite }): Promise<Database> {
  const pglite = target.instance ?? await createPglite(target.dataDir)
  const wrap = (conn: Pick<PGlite, 'query' | 'exec'>): Omit<Sql, 'transaction'> => ({
    async query<Row> (text: string, params?: unknown[]) { return (await conn.query<Row>(text, params)).rows },
    async exec (text: string) { await conn.exec(text) }
  })
  const sql: Sql = {
    ...wrap(pglite),
    transaction: work => pglite.transaction(tx => work({ ...wrap(tx), transaction: () => { throw new Error('nested transaction') } }))
  }
  // pglite-prisma-adapter is typed against an older @prisma/driver-adapter-utils; the runtime
  // contract is the same (test/db covers it), so only the types need the cast.
  const { PrismaPGlite } = await import('pglite-prisma-adapter')
  const adapter = new PrismaPGlite(pglite) as unknown as PrismaPg
  const prisma = new PrismaClient({ adapter })
  return {
    kind: 'pglite',
    sql,
    prisma,
    async close () {
      await prisma.$disconnect()
      // An instance handed in belongs to the caller (tests share one per process).
      if (target.instance === undefined && !pglite.closed) await pglite.close()
    }
  }
}

async function openPostgres (url: string, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 })
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {})
  const onClient = (client: pg.ClientBase): Omit<Sql, 'transaction'> => ({
    async query<Row> (text: string, params?: unknown[]) { return (await client.query(text, params)).rows as Row[] },
    async exec (text: string) { await client.query(text) }
  })
  const sql: Sql = {
    async query<Row> (text: string, params?: unknown[]) { return (await pool.query(text, params)).rows as Row[] },
    async exec (text: string) { await pool.query(text) },
    async transaction (work) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await work({ ...onClient(client), transaction: () => { throw new Error('nested transaction') } })
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    }
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  return {
    kind: 'postgres',
    sql,
    prisma,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close () {
      await prisma.$disconnect()
      await pool.end()
    }
  }
}

/** PostgreSQL did not answer within DATABASE_CONNECT_TIMEOUT_SECONDS at start. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError'
}

/**
 * At start, PostgreSQL may still be booting (containers started together): try `SELECT 1` until it
 * answers, backing off up to 2 s between tries, for at most `timeoutSeconds`.
 */
export async function waitForDatabase (sql: Sql, { timeoutSeconds, onRetry }: { timeoutSeconds: number, onRetry: (error: Error, attempt: number) => void }): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000
  for (let attempt = 1; ; attempt++) {
    try {
      await sql.query('SELECT 1')
      return
    } catch (error) {
      const delay = Math.min(250 * 2 ** (attempt - 1), 2000)
      if (Date.now() + delay > deadline) {
        throw new DatabaseUnreachableError(`the database did not answer within ${timeoutSeconds} s (DATABASE_CONNECT_TIMEOUT_SECONDS, ${attempt} attempts): ${(error as Error).message || String((error as { code?: string }).code)}`)
      }
      onRetry(error as Error, attempt)
      await new Promise(resolve => setTimeout(resolve, delay))
    }
  }
}
