import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { FakeClock } from '../helpers/build-app.js'
import type { Browser } from '../helpers/cookies.js'
import { freshTestDatabase } from '../helpers/database.js'
import { buildHostApp, statusesFor, type HostApp } from '../helpers/host-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

// Access tokens are verified without a query; a revoked session's tokens must still be refused at
// once, by /auth/me and by the host's own routes behind app.authenticate.

const github = await startFakeGitHub()
t.teardown(() => github.close())

async function setUp (t: Test) {
  const clock = new FakeClock()
  const host = await buildHostApp(t, { database: (await freshTestDatabase()).target, env: github.env, clock })
  return { ...host, clock }
}

/** Signs a browser in; its access token, refresh token and session id. */
async function session (app: FastifyInstance, browser: Browser) {
  const signedIn = await signIn(app, browser)
  const access = await browser.cookie('handoff_access') as string
  const refresh = await browser.cookie('handoff_refresh', '/auth') as string
  const sessionId = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).sid as string
  return { userId: signedIn.json().user.id as string, access, refresh, sessionId }
}

/** The token works everywhere (and is now in the verified-token cache), so a later 401 is the revocation's. */
async function acceptedFirst (t: Test, app: FastifyInstance, access: string) {
  t.same(await statusesFor(app, access), [200, 200], 'accepted before the revocation (and remembered as verified)')
}

function assertRefused (t: Test, statuses: number[], what: string) {
  t.same(statuses, [401, 401], `${what}: refused at once by /auth/me and by the host's route`)
}

/** One log line per revocation, with ids and reason, and no token anywhere in the log. */
function assertLogged (t: Test, host: HostApp, expected: { userId: string, sessionIds: string[], reason: string }, tokens: string[]) {
  const lines = host.logs().filter(line => line.msg === 'sessions revoked')
  t.same(lines.map(line => ({ userId: line.userId, sessionIds: [...line.sessionIds as string[]].sort(), reason: line.reason })),
    [{ ...expected, sessionIds: [...expected.sessionIds].sort() }], 'one log line: user id, session ids, reason')
  for (const token of tokens) t.notOk(host.rawLogs().includes(token), 'no token in the log')
}

t.test('logout: the old access cookie is refused at once; onSessionRevoked says logout', async t => {
  const host = await setUp(t)
  const browser = newBrowser()
  const { userId, access, refresh, sessionId } = await session(host.app, browser)
  await acceptedFirst(t, host.app, access)
  t.equal((await browse(host.app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, access), 'after logout')
  const me = await host.app.inject({ url: '/auth/me', cookies: { handoff_access: access } })
  t.equal(me.json().code, 'not_authenticated')
  t.same(host.revocations, [{ userId, sessionIds: [sessionId], reason: 'logout' }])
  assertLogged(t, host, { userId, sessionIds: [sessionId], reason: 'logout' }, [access, refresh])
  const [row] = await host.app.handoff.db.sql.query<{ user_id: string, revoked_at: Date, expires_at: Date }>('SELECT user_id, revoked_at, expires_at FROM revoked_sessions WHERE session_id = $1', [sessionId])
  t.equal(row.user_id, userId, 'recorded in revoked_sessions')
  t.equal(row.expires_at.getTime() - row.revoked_at.getTime(), (900 + 60) * 1000, 'until every token of the session has expired: access token TTL + skew')

  t.equal((await browse(host.app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204, 'a second logout is still 204')
  t.equal(host.revocations.length, 1, 'and revokes nothing: no second event')
})

t.test('logout with only the access cookie: that token is refused at once', async t => {
  const host = await setUp(t)
  const { userId, access, sessionId } = await session(host.app, newBrowser())
  await acceptedFirst(t, host.app, access)
  t.equal((await host.app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_access: access } })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, access), 'after logout by access cookie')
  t.same(host.revocations, [{ userId, sessionIds: [sessionId], reason: 'logout' }])
})

t.test('logout with a refresh cookie the server no longer knows (purged, stale) still ends the access cookie\'s session', async t => {
  const host = await setUp(t)
  const { userId, access, sessionId } = await session(host.app, newBrowser())
  await acceptedFirst(t, host.app, access)
  const logout = await host.app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_access: access, handoff_refresh: 'a-refresh-token-long-purged-from-the-database' } })
  t.equal(logout.statusCode, 204)
  assertRefused(t, await statusesFor(host.app, access), 'after logout')
  t.ok((await host.app.handoff.db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedAt, 'the session is revoked')
  t.same(host.revocations, [{ userId, sessionIds: [sessionId], reason: 'logout' }])
})

t.test('logout with the refresh cookie of one session and the access cookie of another ends both', async t => {
  const host = await setUp(t)
  const browser = newBrowser()
  const older = await session(host.app, browser)
  const newer = await session(host.app, newBrowser())
  await acceptedFirst(t, host.app, newer.access)
  const logout = await host.app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_access: newer.access, handoff_refresh: older.refresh } })
  t.equal(logout.statusCode, 204)
  assertRefused(t, await statusesFor(host.app, newer.access), 'the access cookie\'s session')
  assertRefused(t, await statusesFor(host.app, older.access), 'the refresh cookie\'s session')
  t.same(host.revocations.map(revocation => revocation.sessionIds).flat().sort(), [older.sessionId, newer.sessionId].sort())
})

t.test('logout?all=true: every session\'s access cookie is refused at once; onSessionRevoked says logout_all', async t => {
  const host = await setUp(t)
  const laptop = newBrowser()
  const phone = newBrowser()
  const first = await session(host.app, laptop)
  const second = await session(host.app, phone)
  for (const { access } of [first, second]) await acceptedFirst(t, host.app, access)
  t.equal((await browse(host.app, laptop, '/auth/logout?all=true', { method: 'POST' })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, first.access), 'this browser')
  assertRefused(t, await statusesFor(host.app, second.access), 'the other browser')
  t.equal(host.revocations.length, 1, 'one event for the whole revocation')
  t.same({ ...host.revocations[0], sessionIds: [...host.revocations[0].sessionIds].sort() },
    { userId: first.userId, sessionIds: [first.sessionId, second.sessionId].sort(), reason: 'logout_all' })
  assertLogged(t, host, { userId: first.userId, sessionIds: [first.sessionId, second.sessionId], reason: 'logout_all' }, [first.access, second.access, first.refresh, second.refresh])
})

t.test('DELETE /auth/sessions/:id: that session\'s access cookie is refused at once, the others\' are not', async t => {
  const host = await setUp(t)
  const laptop = newBrowser()
  const phone = newBrowser()
  const mine = await session(host.app, laptop)
  const other = await session(host.app, phone)
  await acceptedFirst(t, host.app, other.access)
  t.equal((await browse(host.app, laptop, `/auth/sessions/${other.sessionId}`, { method: 'DELETE' })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, other.access), 'the revoked device')
  t.same(await statusesFor(host.app, mine.access), [200, 200], 'the device that revoked it stays signed in')
  t.same(host.revocations, [{ userId: mine.userId, sessionIds: [other.sessionId], reason: 'revoked' }])
  assertLogged(t, host, { userId: mine.userId, sessionIds: [other.sessionId], reason: 'revoked' }, [mine.access, other.access])
  t.equal((await browse(host.app, laptop, `/auth/sessions/${other.sessionId}`, { method: 'DELETE' })).statusCode, 404, 'already revoked: 404, no event')
  t.equal(host.revocations.length, 1)
})

t.test('refresh token reuse: every access token of the session is refused at once; onSessionRevoked says reuse_detected', async t => {
  const host = await setUp(t)
  const victim = newBrowser()
  const { userId, access, refresh: stolen, sessionId } = await session(host.app, victim)
  const thief = await host.app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: stolen } })
  t.equal(thief.statusCode, 200)
  const thiefAccess = thief.cookies.find(cookie => cookie.name === 'handoff_access')?.value as string
  for (const token of [access, thiefAccess]) await acceptedFirst(t, host.app, token)
  host.clock.advance(60)
  const replay = await browse(host.app, victim, '/auth/refresh', { method: 'POST' })
  t.equal(replay.json().code, 'refresh_token_reused')
  assertRefused(t, await statusesFor(host.app, access), 'the victim\'s access token')
  assertRefused(t, await statusesFor(host.app, thiefAccess), 'the thief\'s access token')
  t.same(host.revocations, [{ userId, sessionIds: [sessionId], reason: 'reuse_detected' }])
  assertLogged(t, host, { userId, sessionIds: [sessionId], reason: 'reuse_detected' }, [access, thiefAccess, stolen])
})

t.test('DELETE /users/me: every session\'s access cookie is refused at once, though the sessions are gone', async t => {
  const host = await setUp(t)
  const laptop = newBrowser()
  const phone = newBrowser()
  const first = await session(host.app, laptop)
  const second = await session(host.app, phone)
  for (const { access } of [first, second]) await acceptedFirst(t, host.app, access)
  t.equal((await browse(host.app, laptop, '/users/me', { method: 'DELETE' })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, first.access), 'this browser')
  assertRefused(t, await statusesFor(host.app, second.access), 'the other browser')
  t.equal(await host.app.handoff.db.prisma.session.count(), 0, 'the sessions went with the account')
  const recorded = await host.app.handoff.db.sql.query<{ session_id: string, user_id: string }>('SELECT session_id, user_id FROM revoked_sessions ORDER BY session_id')
  t.same(recorded, [first.sessionId, second.sessionId].sort().map(id => ({ session_id: id, user_id: first.userId })), 'their revocations stay')
  t.equal(host.revocations.length, 1)
  t.same({ ...host.revocations[0], sessionIds: [...host.revocations[0].sessionIds].sort() },
    { userId: first.userId, sessionIds: [first.sessionId, second.sessionId].sort(), reason: 'account_deleted' })
  assertLogged(t, host, { userId: first.userId, sessionIds: [first.sessionId, second.sessionId], reason: 'account_deleted' }, [first.access, second.access])
})

t.test('a failing onSessionRevoked is logged; the revocation stands', async t => {
  const host = await buildHostApp(t, { database: (await freshTestDatabase()).target, env: github.env, hooks: { onSessionRevoked () { throw new Error('audit log down') } } })
  const browser = newBrowser()
  const { access } = await session(host.app, browser)
  t.equal((await browse(host.app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
  assertRefused(t, await statusesFor(host.app, access), 'after logout')
  t.ok(host.logs().some(line => line.hook === 'onSessionRevoked' && line.msg === 'lifecycle hook failed'), 'the hook\'s failure is logged')
})
