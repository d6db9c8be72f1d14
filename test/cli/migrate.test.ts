import { existsSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { onPostgres } from '../helpers/database.js'
import { emptyPostgresDatabase } from '../helpers/empty-database.js'
import { freePort } from '../reliability/server-process.js'
import { runCli } from '../helpers/run-cli.js'

// `handoff migrate` applies the package's migrations and exits; `handoff check` then finds none pending.

const cwd = t.testdir({})

t.test('the embedded database: created in DATA_DIR, migrated, then up to date', async t => {
  const dataDir = path.join(cwd, 'data')
  const first = await runCli(['migrate'], { cwd, env: { DATA_DIR: dataDir } })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, `handoff: embedded (PGlite) in ${path.join(dataDir, 'pglite')}: `)
  t.ok(existsSync(path.join(dataDir, 'pglite', 'PG_VERSION')), 'the database exists')
  const again = await runCli(['migrate'], { cwd, env: { DATA_DIR: dataDir } })
  t.equal(again.stdout, `handoff: embedded (PGlite) in ${path.join(dataDir, 'pglite')}: up to date\n`)
})

t.test('PostgreSQL: an empty database gets every migration, once; the password is in no line', { skip: !onPostgres && 'needs TEST_DATABASE_URL' }, async t => {
  const url = new URL(await emptyPostgresDatabase(t) as string)
  url.password = 'secret-password' // trust authentication on the test server: accepted, and never shown
  const env = { DATABASE_URL: url.toString() }
  const before = await runCli(['check'], { cwd, env })
  t.equal(before.code, 1, 'check fails while migrations are pending')
  t.match(before.stderr, /^handoff: database PostgreSQL [^\n]+: \d+ migrations pending \(first: \d+_init\): run `handoff migrate`, or set MIGRATE_ON_START=true\n$/)

  const first = await runCli(['migrate'], { cwd, env })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, new RegExp(`^handoff: PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}: applied \\d+_init, `))
  const again = await runCli(['migrate'], { cwd, env })
  t.match(again.stdout, /: up to date\n$/)

  const after = await runCli(['check'], { cwd, env })
  t.equal(after.code, 0, after.stderr)
  t.match(after.stdout, /^database +PostgreSQL .*, reached, \d+ migrations applied, 0 pending$/m)
  t.notMatch(first.stdout + again.stdout + before.stderr + after.stdout, 'secret-password')
})

t.test('PostgreSQL not reachable: one line, exit 1, after DATABASE_CONNECT_TIMEOUT_SECONDS', async t => {
  const port = await freePort()
  const { code, stdout, stderr } = await runCli(['migrate'], { cwd, env: { DATABASE_URL: `postgresql://handoff:secret-password@127.0.0.1:${port}/handoff`, DATABASE_CONNECT_TIMEOUT_SECONDS: '1' } })
  t.equal(code, 1)
  t.equal(stdout, '')
  t.match(stderr, new RegExp(`^handoff: migrating PostgreSQL 127\\.0\\.0\\.1:${port}/handoff failed: the database did not answer within 1 s [^\\n]*ECONNREFUSED[^\\n]*\\n$`))
  t.notMatch(stderr, 'secret-password')
})
