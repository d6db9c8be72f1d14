import { createHash } from 'node:crypto'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
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
  t.same(first.applied, ['20261123000000_init', '20261129000000_security_hardening', '20261130000000_provider_lifecycle', '20261130000200_native_clients', '20261130100000_apple_email_forwarding'])
  t.same((await migrate(db.sql, { postgres: false })).applied, [], 'nothing to do the second time')

  const [row] = await db.sql.query<{ checksum: string, finished_at: Date | null, applied_steps_count: number }>(
    'SELECT checksum, finished_at, applied_steps_count FROM "_prisma_migrations" WHERE migration_name = $1', ['20261123000000_init'])
  const script = await readFile(`${migrationsDir}/20261123000000_init/migration.sql`, 'utf8')
  t.equal(row.checksum, createHash('sha256').update(script).digest('hex'), 'Prisma\'s checksum: sha256 of the file')
  t.ok(row.finished_at)
  const tables = await db.sql.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
  t.same(tables.map(table => table.tablename), ['_prisma_migrations', 'identities', 'login_codes', 'pending_signups', 'provider_grant_revocations', 'provider_tokens', 'refresh_tokens', 'revoked_sessions', 'sessions', 'used_id_tokens', 'users'])
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

t.test('upgrading: addresses typed into the dev form stop counting as verified owners', async t => {
  const instance = await PGlite.create()
  const db = await openDatabase({ kind: 'pglite', instance })
  const before = await mkdtemp(path.join(os.tmpdir(), 'handoff-migrations-'))
  t.teardown(async () => { await db.close(); await instance.close(); await rm(before, { recursive: true, force: true }) })
  await cp(path.join(migrationsDir, '20261123000000_init'), path.join(before, '20261123000000_init'), { recursive: true })
  await migrate(db.sql, { postgres: false, dir: before })

  // Before the fix the dev form's "verified" box was ticked by default, on any non-production host.
  const user = async (nickname: string, email: string, identities: Array<[string, boolean]>) => {
    const [row] = await db.sql.query<{ id: string }>(
      'INSERT INTO users (nickname, nickname_key, email, email_verified) VALUES ($1, $1, $2, true) RETURNING id', [nickname, email])
    for (const [provider, verified] of identities) {
      await db.sql.query('INSERT INTO identities (user_id, provider, provider_user_id, email, email_verified) VALUES ($1, $2, $3, $4, $5)',
        [row.id, provider, `${provider}-${nickname}`, email, verified])
    }
    return row.id
  }
  const squatter = await user('squatter', 'victim@example.com', [['dev', true]])
  const both = await user('both', 'Both@Example.com', [['dev', true], ['google', true]])
  const real = await user('real', 'real@example.com', [['google', true]])

  // The fix, then whatever later migrations there are.
  t.equal((await migrate(db.sql, { postgres: false })).applied[0], '20261129000000_security_hardening')
  const verified = async (table: string, where: string, id: string) =>
    (await db.sql.query<{ email_verified: boolean }>(`SELECT email_verified FROM ${table} WHERE ${where} = $1`, [id])).map(row => row.email_verified)
  t.same(await verified('identities', 'user_id', squatter), [false], 'a dev identity is no longer verified')
  t.same(await verified('users', 'id', squatter), [false], 'nor the account it alone vouched for')
  t.same(await verified('users', 'id', both), [true], 'an account a real provider vouches for stays verified')
  t.same((await db.sql.query<{ provider: string, email_verified: boolean }>(
    'SELECT provider, email_verified FROM identities WHERE user_id = $1 ORDER BY provider', [both])).map(row => [row.provider, row.email_verified]),
  [['dev', false], ['google', true]])
  t.same(await verified('users', 'id', real), [true], 'accounts without a dev identity are untouched')
  t.same((await db.sql.query<{ email_normalized: string }>('SELECT email_normalized FROM users WHERE id = $1', [both]))[0].email_normalized,
    'both@example.com', 'existing addresses get their normalized form')
})

t.test('upgrading to provider_lifecycle: sessions and codes from before carry no identity and keep working; tokens and sessions follow their identity', async t => {
  const instance = await PGlite.create()
  const db = await openDatabase({ kind: 'pglite', instance })
  const before = await mkdtemp(path.join(os.tmpdir(), 'handoff-migrations-'))
  t.teardown(async () => { await db.close(); await instance.close(); await rm(before, { recursive: true, force: true }) })
  for (const name of ['20261123000000_init', '20261129000000_security_hardening']) await cp(path.join(migrationsDir, name), path.join(before, name), { recursive: true })
  await migrate(db.sql, { postgres: false, dir: before })
  const [user] = await db.sql.query<{ id: string }>("INSERT INTO users (nickname, nickname_key) VALUES ('old', 'old') RETURNING id")
  const [identity] = await db.sql.query<{ id: string }>("INSERT INTO identities (user_id, provider, provider_user_id) VALUES ($1, 'github', '1') RETURNING id", [user.id])
  const [session] = await db.sql.query<{ id: string }>("INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + interval '1 day') RETURNING id", [user.id])
  await db.sql.query("INSERT INTO login_codes (code_hash, user_id, expires_at) VALUES ('old-code', $1, now() + interval '1 minute')", [user.id])

  t.same((await migrate(db.sql, { postgres: false })).applied.slice(0, 1), ['20261130000000_provider_lifecycle'], 'provider_lifecycle first, then the later ones')
  t.same(await db.sql.query('SELECT identity_id FROM sessions'), [{ identity_id: null }], 'an existing session has no identity')
  t.same(await db.sql.query('SELECT code_hash, identity_id FROM login_codes'), [{ code_hash: 'old-code', identity_id: null }], 'an existing code stays usable')

  await db.sql.query('UPDATE sessions SET identity_id = $1 WHERE id = $2', [identity.id, session.id])
  await db.sql.query("INSERT INTO provider_tokens (identity_id, ciphertext, key_id) VALUES ($1, 'sealed', 'k1')", [identity.id])
  await db.sql.query("INSERT INTO login_codes (code_hash, user_id, identity_id, expires_at) VALUES ('new-code', $1, $2, now() + interval '1 minute')", [user.id, identity.id])
  await db.sql.query('DELETE FROM identities WHERE id = $1', [identity.id])
  t.same(await db.sql.query('SELECT identity_id FROM sessions'), [{ identity_id: null }], 'the session outlives its identity, without it')
  t.same(await db.sql.query('SELECT 1 FROM provider_tokens'), [], 'the tokens go with the identity')
  t.same(await db.sql.query('SELECT code_hash FROM login_codes'), [{ code_hash: 'old-code' }], 'a code through the removed identity goes with it')
})
