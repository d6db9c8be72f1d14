import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrate } from '../../src/db/migrate.js'
import { createPglite, writeSeed } from '../../src/db/pglite.js'

// A new embedded database starts from the seed written at install (no initdb); a directory that
// already holds a database is opened as it is; a seed that does not load falls back to initdb.

const tablesOf = async (db: PGlite) => (await db.query<{ tablename: string }>(
  "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map(row => row.tablename)

const migrateInstance = async (instance: PGlite) => {
  const db = await openDatabase({ kind: 'pglite', instance })
  await migrate(db.sql, { postgres: false })
  await db.close()
}

t.test('an empty data directory starts as a copy of the seed, migrated, and keeps its data', async t => {
  const dir = t.testdir()
  const seed = path.join(dir, 'seed.tar.gz')
  await writeSeed(migrateInstance, seed)
  t.ok(existsSync(seed), 'the seed is written')

  const dataDir = path.join(dir, 'pglite')
  const first = await createPglite(dataDir, { seed })
  t.ok(existsSync(path.join(dataDir, 'PG_VERSION')), 'a database on disk')
  t.same(await tablesOf(first), ['_prisma_migrations', 'identities', 'login_codes', 'pending_signups', 'provider_grant_revocations', 'provider_tokens', 'refresh_tokens', 'revoked_sessions', 'sessions', 'used_id_tokens', 'users'], 'with every table')
  const db = await openDatabase({ kind: 'pglite', instance: first })
  t.same((await migrate(db.sql, { postgres: false })).applied, [], 'already migrated')
  await db.sql.query("INSERT INTO users (id, nickname, nickname_key, created_at, updated_at) VALUES (gen_random_uuid(), 'kept', 'kept', now(), now())")
  await db.close()
  await first.close()

  const again = await createPglite(dataDir, { seed })
  t.same((await again.query('SELECT nickname FROM users')).rows, [{ nickname: 'kept' }], 'a second open keeps the data: the seed is only for empty directories')
  await again.close()
})

t.test('a seed that does not load falls back to initdb', async t => {
  const dir = t.testdir()
  const seed = path.join(dir, 'seed.tar.gz')
  await writeFile(seed, 'not a tarball')
  const db = await createPglite(path.join(dir, 'pglite'), { seed })
  t.same((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'a working, empty database')
  t.same(await tablesOf(db), [], 'nothing from the broken seed')
  await db.close()
  const { readdir } = await import('node:fs/promises')
  t.same((await readdir(dir)).filter(name => name.includes('.partial-')), [], 'no half-unpacked copy left behind')
})
