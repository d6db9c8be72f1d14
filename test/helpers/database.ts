import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, rename, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import t from 'tap'
import { openDatabase, type DatabaseTarget, type Sql } from '../../src/db/database.js'
import { createPglite } from '../../src/db/pglite.js'
import { migrate } from '../../src/db/migrate.js'
import { migrationsDir } from '../../src/paths.js'

// Each test file (a process under tap) gets one migrated database: an in-memory PGlite (starting
// one costs about two seconds of WASM), or, with TEST_DATABASE_URL, a throwaway database on that
// PostgreSQL server. Every test starts from empty tables; tests in a file run one after another.

export const testDatabaseUrl = process.env.TEST_DATABASE_URL
export const onPostgres = testDatabaseUrl !== undefined && testDatabaseUrl !== ''

const TABLES = ['used_id_tokens', 'provider_grant_revocations', 'provider_tokens', 'revoked_sessions', 'refresh_tokens', 'sessions', 'login_codes', 'pending_signups', 'identities', 'users']

interface Shared { target: DatabaseTarget, sql: Sql, url?: string }
let shared: Promise<Shared> | undefined

/**
 * Booting PGlite from a migrated data directory takes about a second; running initdb takes four.
 * The first test process to need one builds it and leaves it in the temp directory, keyed by the
 * migrations' content, for the others.
 */
async function migratedPglite (): Promise<PGlite> {
  const files = (await readdir(migrationsDir, { recursive: true })).filter(name => name.endsWith('.sql')).sort()
  const hash = createHash('sha256')
  for (const file of files) hash.update(file).update(await readFile(path.join(migrationsDir, file)))
  const snapshot = path.join(os.tmpdir(), `handoff-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`)
  try {
    return await createPglite(undefined, { loadDataDir: new Blob([await readFile(snapshot)]) })
  } catch {
    const instance = await createPglite()
    const db = await openDatabase({ kind: 'pglite', instance })
    await migrate(db.sql, { postgres: false })
    await db.close()
    const partial = `${snapshot}.${process.pid}`
    await writeFile(partial, Buffer.from(await (await instance.dumpDataDir('none')).arrayBuffer()))
    await rename(partial, snapshot)
    return instance
  }
}

async function createShared (): Promise<Shared> {
  if (!onPostgres) {
    const instance = await migratedPglite()
    const db = await openDatabase({ kind: 'pglite', instance })
    t.teardown(async () => { await db.close(); await instance.close() })
    return { target: { kind: 'pglite', instance }, sql: db.sql }
  }
  const name = `handoff_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(testDatabaseUrl as string)
  url.pathname = `/${name}`
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 })
  await migrate(db.sql, { postgres: true })
  t.teardown(async () => {
    await db.close()
    const client = new pg.Client({ connectionString: testDatabaseUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  })
  return { target: { kind: 'postgres', url: url.toString() }, sql: db.sql, url: url.toString() }
}

export interface TestDatabase {
  target: DatabaseTarget
  /** The connection URL, for a second app instance on the same database (PostgreSQL only). */
  url?: string
  /** Direct SQL on the test database, for assertions and setup. */
  sql: Sql
}

/** The process's test database, emptied. */
export async function freshTestDatabase (): Promise<TestDatabase> {
  shared ??= createShared()
  const database = await shared
  await database.sql.exec(`TRUNCATE ${TABLES.join(', ')} CASCADE`)
  return database
}
