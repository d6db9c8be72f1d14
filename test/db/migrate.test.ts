import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrate } from '../../src/db/migrate.js'
import { migrationsDir } from '../../src/paths.js'

t.test('migrations apply once, recorded the way Prisma records them', async t => {
  const instance = await PGlite.create()
  const db = await openDatabase({ kind: 'pglite', instance })
  t.teardown(async () => { await db.close(); await instance.close() })

  const first = await migrate(db.sql, { postgres: false })
  t.same(first.applied, ['20261123000000_init', '20261129000000_security_hardening'])
  t.same((await migrate(db.sql, { postgres: false })).applied, [], 'nothing to do the second time')

  const [row] = await db.sql.query<{ checksum: string, finished_at: Date | null, applied_steps_count: number }>(
    'SELECT checksum, finished_at, applied_steps_count FROM "_prisma_migrations" WHERE migration_name = $1', ['20261123000000_init'])
  const script = await readFile(`${migrationsDir}/20261123000000_init/migration.sql`, 'utf8')
  t.equal(row.checksum, createHash('sha256').update(script).digest('hex'), 'Prisma\'s checksum: sha256 of the file')
  t.ok(row.finished_at)
  const tables = await db.sql.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
  t.same(tables.map(table => table.tablename), ['_prisma_migrations', 'identities', 'login_codes', 'pending_signups', 'refresh_tokens', 'revoked_sessions', 'sessions', 'users'])
})

t.test('a failing migration leaves nothing half-applied', async t => {
  const instance = await PGlite.create()
  const db = await openDatabase({ kind: 'pglite', instance })
  t.teardown(async () => { await db.close(); await instance.close() })
  const dir = t.testdir({
    '001_ok': { 'migration.sql': 'CREATE TABLE a (id int);' },
    '002_broken': { 'migration.sql': 'CREATE TABLE b (id int); SELECT no_such_function();' }
  })
  await t.rejects(migrate(db.sql, { postgres: false, dir }))
  const tables = await db.sql.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
  t.same(tables, [], 'the whole run rolled back')
})
