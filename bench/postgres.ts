import { randomBytes } from 'node:crypto'
import pg from 'pg'

// The PostgreSQL side of the bench: a throwaway database on the server BENCH_DATABASE_URL points at
// (default: the local one), created at the start and dropped at the end, so a run leaves nothing.

export const DEFAULT_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres'

export interface ThrowawayDatabase { url: string, serverVersion: string, drop(): Promise<void> }

async function adminQuery (serverUrl: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 2000 })
  await client.connect()
  try { return (await client.query(text)).rows } finally { await client.end() }
}

/** A fresh database, or why there is none when the server does not answer. */
export async function createThrowawayDatabase (serverUrl: string): Promise<ThrowawayDatabase | { skipped: string }> {
  const name = `handoff_bench_${randomBytes(5).toString('hex')}`
  let serverVersion: string
  try {
    serverVersion = String((await adminQuery(serverUrl, 'SHOW server_version'))[0].server_version)
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`)
  } catch (error) {
    return { skipped: `PostgreSQL at ${new URL(serverUrl).host} did not answer (${(error as Error).message})` }
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    serverVersion,
    drop: async () => { await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
  }
}
