import pg from 'pg'
import t from 'tap'
import { createLoginCode } from '../../src/auth/login-codes.js'
import type { Sql } from '../../src/db/database.js'
import { generateSecret, hashSecret } from '../../src/secrets.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { onPostgres } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// An account being deleted while a login of that account completes: the login either finishes
// before the deletion (and its session is revoked with the others) or fails with the route's own
// 4xx, never a 500 and never a session that outlives its account.

const github = await startFakeGitHub()
t.teardown(() => github.close())

const GONE_USER = '00000000-0000-4000-8000-00000000dead'

/** Writes rows whose user no longer exists: what a deletion committing mid-request leaves a statement facing. */
async function withoutForeignKeys (sql: Sql, statement: string, params: unknown[]) {
  await sql.transaction(async tx => {
    await tx.query('SET LOCAL session_replication_role = replica')
    await tx.query(statement, params)
  })
}

t.test('an exchange whose account was deleted mid-request answers 400 login_code_invalid, not 500', async t => {
  const { app, clock } = await buildTestApp(t, github.env)
  const code = generateSecret()
  await withoutForeignKeys(app.handoff.db.sql, 'INSERT INTO login_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)', [hashSecret(code), GONE_USER, new Date(clock.now().getTime() + 60_000)])
  const response = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { 'x-requested-with': 'fetch' }, payload: { code } })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'login_code_invalid')
  t.equal(await app.handoff.db.prisma.session.count(), 0, 'no session')
})

t.test('a signup whose account was deleted mid-request answers 401 signup_invalid, not 500', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(exchange.json().status, 'signup_required')
  // Another tab registered this identity, then that account was deleted as this signup looked it up.
  await withoutForeignKeys(app.handoff.db.sql, "INSERT INTO identities (user_id, provider, provider_user_id, email_verified) VALUES ($1, 'github', $2, false)", [GONE_USER, String(github.user.id)])
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'latecomer' } })
  t.equal(signup.statusCode, 401)
  t.equal(signup.json().code, 'signup_invalid')
  t.equal(await app.handoff.db.prisma.session.count(), 0, 'no session')
})

t.test('an exchange racing DELETE /users/me never leaves a working session for the deleted account', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL): the embedded database runs one statement at a time' }, async t => {
  const { app, clock, databaseUrl } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  const signedIn = await signIn(app, browser)
  const userId = signedIn.json().user.id as string
  const code = await createLoginCode(app.handoff.db.sql, { userId, identityId: null }, {}, clock.now(), 60)

  // Another reader of the account row (a foreign-key check, a report) holds the deletion up for a while.
  const [admin, monitor] = [new pg.Client({ connectionString: databaseUrl }), new pg.Client({ connectionString: databaseUrl })]
  for (const client of [admin, monitor]) {
    await client.connect()
    t.teardown(() => client.end())
  }
  // On its own connection: pg_stat_activity is read once per transaction.
  const lockWaiters = async (count: number, unless = () => false) => {
    while (!unless()) {
      const [{ waiting }] = (await monitor.query("SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows
      if (waiting >= count) return
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
  await admin.query('BEGIN')
  await admin.query('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [userId])
  const deletion = browse(app, browser, '/users/me', { method: 'DELETE' })
  await lockWaiters(1)
  let exchanged = false
  const exchange = app.inject({ method: 'POST', url: '/auth/exchange', headers: { 'x-requested-with': 'fetch' }, payload: { code } })
    .finally(() => { exchanged = true })
  // Either the exchange completes while the deletion waits, or it queues behind the deletion.
  await lockWaiters(2, () => exchanged)
  await admin.query('COMMIT')
  const [deleted, exchangeResponse] = await Promise.all([deletion, exchange])

  t.equal(deleted.statusCode, 204, 'the account is deleted')
  t.equal(exchangeResponse.statusCode, 400, 'the exchange queued behind the deletion and found its code gone')
  t.equal(exchangeResponse.json().code, 'login_code_invalid')
  t.notOk(exchangeResponse.cookies.some(cookie => cookie.name === 'handoff_access'), 'no access token for a deleted account')
  t.equal(await app.handoff.db.prisma.session.count(), 0)
})
