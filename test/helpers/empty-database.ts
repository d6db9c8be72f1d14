import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { onPostgres, testDatabaseUrl } from './database.js'

// A database with nothing in it, not even the migrations, on TEST_DATABASE_URL's server: what a
// first deployment meets. Dropped at teardown. Undefined on the embedded pass.

async function admin (sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export async function emptyPostgresDatabase (t: { teardown(fn: () => unknown): void }): Promise<string | undefined> {
  if (!onPostgres) return undefined
  const name = `handoff_empty_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  t.teardown(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const url = new URL(testDatabaseUrl as string)
  url.pathname = `/${name}`
  return url.toString()
}
