import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import t, { type Test } from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { revocationReload } from '../../src/sessions/revocations.js'
import { freshTestDatabase, onPostgres, testDatabaseUrl } from '../helpers/database.js'
import { buildHostApp, refusedWithin, statusesFor } from '../helpers/host-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'
import type { Browser } from '../helpers/cookies.js'

// A revocation on one instance reaches the others (Redis pub/sub, or PostgreSQL LISTEN/NOTIFY), and
// survives a restart (the revoked_sessions table).

const github = await startFakeGitHub()
t.teardown(() => github.close())

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
// Long enough for a loaded machine, short enough that only a broadcast (never the token's expiry) passes.
const BROADCAST_WITHIN_MS = 2000

async function signedIn (app: FastifyInstance, browser: Browser) {
  await signIn(app, browser)
  const access = await browser.cookie('handoff_access') as string
  return { access, sessionId: JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).sid as string }
}

t.test('a restarted app on the same database still refuses revoked sessions, also of a deleted account', async t => {
  const { target } = await freshTestDatabase()
  const before = await buildHostApp(t, { database: target, env: github.env })
  const loggedOut = newBrowser()
  const { access: loggedOutAccess } = await signedIn(before.app, loggedOut)
  const stillIn = newBrowser()
  const { access: liveAccess } = await signedIn(before.app, stillIn)
  t.equal((await browse(before.app, loggedOut, '/auth/logout', { method: 'POST' })).statusCode, 204)

  const [octocat, emails] = [github.user, github.emails]
  github.user = { ...octocat, id: 4242, login: 'leaver' }
  github.emails = [{ email: 'leaver@example.com', primary: true, verified: true, visibility: null }]
  t.teardown(() => { github.user = octocat; github.emails = emails })
  const leaver = newBrowser()
  const { access: deletedAccess } = await signedIn(before.app, leaver)
  t.equal((await browse(before.app, leaver, '/users/me', { method: 'DELETE' })).statusCode, 204)
  await before.app.close()

  const after = await buildHostApp(t, { database: target, env: github.env })
  t.same(await statusesFor(after.app, loggedOutAccess), [401, 401], 'the logged-out session stays refused')
  t.same(await statusesFor(after.app, deletedAccess), [401, 401], 'the deleted account\'s session stays refused')
  t.same(await statusesFor(after.app, liveAccess), [200, 200], 'a live session is not affected')
})

t.test('a restarted app on the same PGlite data directory still refuses a revoked session', { skip: onPostgres ? 'PGlite only' : false }, async t => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-revoked-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const database = { kind: 'pglite' as const, dataDir }
  const before = await buildHostApp(t, { database, env: github.env })
  const browser = newBrowser()
  const { access } = await signedIn(before.app, browser)
  t.equal((await browse(before.app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
  await before.app.close()

  const after = await buildHostApp(t, { database, env: github.env })
  t.same(await statusesFor(after.app, access), [401, 401], 'refused after the restart')
})

/** Two instances on one database: a revocation on A is refused on B within a short poll. */
async function crossInstance (t: Test, env: Record<string, string>) {
  const { target } = await freshTestDatabase()
  const a = await buildHostApp(t, { database: target, env: { ...github.env, ...env } })
  const b = await buildHostApp(t, { database: target, env: { ...github.env, ...env } })
  const laptop = newBrowser()
  const phone = newBrowser()
  const first = await signedIn(a.app, laptop)
  const second = await signedIn(a.app, phone)
  const third = await signedIn(a.app, newBrowser())
  for (const { access } of [first, second, third]) t.same(await statusesFor(b.app, access), [200, 200], 'B accepts A\'s tokens (and remembers them as verified)')

  t.equal((await browse(a.app, laptop, '/auth/logout', { method: 'POST' })).statusCode, 204)
  t.same(await refusedWithin(b.app, first.access, BROADCAST_WITHIN_MS), [401, 401], `logout on A: refused on B within ${BROADCAST_WITHIN_MS} ms`)
  t.same(await statusesFor(b.app, second.access), [200, 200], 'B still accepts the other sessions')

  t.equal((await browse(a.app, phone, '/auth/logout?all=true', { method: 'POST' })).statusCode, 204)
  for (const { access } of [second, third]) {
    t.same(await refusedWithin(b.app, access, BROADCAST_WITHIN_MS), [401, 401], `logout?all=true on A: each session refused on B within ${BROADCAST_WITHIN_MS} ms`)
  }
  t.same(b.revocations, [], 'B only heard of them: the hook fires where the revocation happened')
  return { a, b, first }
}

t.test('two instances on PostgreSQL without Redis: LISTEN/NOTIFY', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL)' }, async t => {
  await crossInstance(t, {})
})

// Redis runs on CI's machine; a fresh machine without it skips this one test, saying so.
const listener = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 })
const redisReachable = await listener.connect().then(() => true, () => false)
t.teardown(() => listener.disconnect())

t.test('two instances with REDIS_URL: Redis pub/sub', { skip: redisReachable ? false : `no Redis at ${REDIS_URL}` }, async t => {
  const prefix = `handoff-test-${randomBytes(4).toString('hex')}:`
  const heard: string[] = []
  await listener.subscribe(`${prefix}revoked-sessions`)
  listener.on('message', (_channel: string, message: string) => heard.push(message))
  const { first } = await crossInstance(t, { REDIS_URL, REDIS_KEY_PREFIX: prefix })
  t.ok(heard.some(message => message.includes(first.sessionId)), 'the revocation went through Redis, on the prefixed channel')
  t.notOk(heard.some(message => message.includes('.')), 'session ids only, never a token')
})

t.test('an instance whose PostgreSQL listener dropped reconnects and catches up', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL)' }, async t => {
  const { target } = await freshTestDatabase()
  const a = await buildHostApp(t, { database: target, env: github.env })
  const b = await buildHostApp(t, { database: target, env: github.env })
  const browser = newBrowser()
  const { access } = await signedIn(a.app, browser)
  t.same(await statusesFor(b.app, access), [200, 200])

  // Both instances' listeners are cut; the revocation happens while B's is down (it retries after 250 ms).
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  t.teardown(() => admin.end())
  const database = new URL(target.kind === 'postgres' ? target.url : '').pathname.slice(1)
  const cut = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'", [database])
  t.equal(cut.rowCount, 2, 'both listeners cut')
  t.equal((await browse(a.app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
  t.same(await refusedWithin(b.app, access, 5000), [401, 401], 'B refuses it once its listener is back')
})

t.test('an instance that never hears the broadcast still refuses a revoked token within the reload interval', async t => {
  const { target } = await freshTestDatabase()
  // B hears nothing: on PostgreSQL it listens on a Redis that is not there while A notifies through
  // PostgreSQL (as a LISTEN through a transaction pooler would: it "succeeds", nothing arrives); two
  // instances on one embedded database never broadcast at all.
  const deaf: Record<string, string> = onPostgres ? { REDIS_URL: 'redis://127.0.0.1:1' } : {}
  const interval = revocationReload.intervalMs
  revocationReload.intervalMs = 300
  const a = await buildHostApp(t, { database: target, env: github.env })
  const b = await buildHostApp(t, { database: target, env: { ...github.env, ...deaf } })
  revocationReload.intervalMs = interval
  const [laptop, phone] = [newBrowser(), newBrowser()]
  const first = await signedIn(a.app, laptop)
  const second = await signedIn(a.app, phone)
  for (const { access } of [first, second]) t.same(await statusesFor(b.app, access), [200, 200], 'B accepts A\'s tokens (and remembers them as verified)')

  t.equal((await browse(a.app, laptop, '/auth/logout', { method: 'POST' })).statusCode, 204)
  t.same(await refusedWithin(b.app, first.access, 5000), [401, 401], 'B refuses it after its next reload')
  t.same(await statusesFor(b.app, second.access), [200, 200], 'B still accepts the other session')
  t.equal((await browse(a.app, phone, '/auth/logout', { method: 'POST' })).statusCode, 204)
  t.same(await refusedWithin(b.app, second.access, 5000), [401, 401], 'and a later revocation after a later reload (reading only the newer rows)')
})

t.test('the PostgreSQL URL reaches the listener as a plugin option, not through a public decorator', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL)' }, async t => {
  const { target } = await freshTestDatabase()
  const host = await buildHostApp(t, { database: target, env: github.env })
  t.notOk(Object.hasOwn(host.app.handoff.db, 'url'), 'app.handoff.db carries no URL (nor its password)')
  const listening = await host.app.handoff.db.sql.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN handoff_revoked_sessions'")
  t.equal(listening.length, 1, 'the instance LISTENs all the same')
})
