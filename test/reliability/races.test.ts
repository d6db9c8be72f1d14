import t from 'tap'
import { buildApp } from '../../src/app.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { Browser } from '../helpers/cookies.js'
import { onPostgres } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// Races on PGlite (one connection: the app must not assume more) and, with TEST_DATABASE_URL, on
// PostgreSQL, where the requests really run in parallel on a pool.

const github = await startFakeGitHub()
t.teardown(() => github.close())
const env = { ...github.env, RATE_LIMIT_ENABLED: 'false' }
t.beforeEach(() => {
  github.user = { id: 583231, login: 'octocat', name: 'The Octocat', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4', email: null }
})

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** The same browser N times over: the same cookies, sent at once. */
async function clones (browser: Browser, count: number): Promise<Browser[]> {
  return Promise.all(Array.from({ length: count }, async () => {
    const clone = newBrowser()
    for (const cookie of await browser.jar.getCookies(`${browser.origin}/auth/`)) await clone.jar.setCookie(cookie.clone() ?? cookie, `${browser.origin}/auth/`)
    return clone
  }))
}

/** A code for a returning user (signed up before, signed out since), bound to `browser`. */
async function returningUserCode (app: App): Promise<{ code: string, browser: Browser }> {
  await signIn(app, newBrowser())
  const browser = newBrowser()
  const code = (await loginThroughProvider(app, browser, 'github')).params.get('code')
  if (code === null) throw new Error('no code')
  return { code, browser }
}

const statusCounts = (statuses: number[]) => statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {})

t.test('100 concurrent exchanges of one code: exactly one session', async t => {
  const { app } = await buildTestApp(t, env)
  const { code, browser } = await returningUserCode(app)
  const sessionsBefore = await app.handoff.db.prisma.session.count()
  const responses = await Promise.all((await clones(browser, 100)).map(clone => browse(app, clone, '/auth/exchange', { method: 'POST', payload: { code } })))
  t.same(statusCounts(responses.map(response => response.statusCode)), { 200: 1, 400: 99 })
  t.ok(responses.filter(response => response.statusCode === 400).every(response => response.json().code === 'login_code_invalid'))
  t.equal(responses.find(response => response.statusCode === 200)?.json().status, 'authenticated')
  t.equal(await app.handoff.db.prisma.session.count(), sessionsBefore + 1, 'one new session')
})

t.test('50 concurrent refreshes of one refresh token: one live session, and the browser keeps refreshing', async t => {
  const { app } = await buildTestApp(t, env)
  const browser = newBrowser()
  await signIn(app, browser)
  const tabs = await clones(browser, 50)
  const responses = await Promise.all(tabs.map(tab => browse(app, tab, '/auth/refresh', { method: 'POST' })))
  const statuses = responses.map(response => response.statusCode)
  t.notOk(statuses.some(status => status >= 500), `no 5xx (${JSON.stringify(statusCounts(statuses))})`)
  t.ok(statuses.every(status => status === 200 || status === 401), 'each tab refreshed or was refused')
  const rotated = responses.filter(response => String(response.headers['set-cookie'] ?? '').includes('handoff_refresh=') && response.statusCode === 200)
  t.equal(rotated.length, 1, 'exactly one tab got the next refresh token')

  const live = await app.handoff.db.sql.query<{ count: number }>('SELECT count(*)::int AS count FROM sessions WHERE revoked_at IS NULL')
  t.equal(live[0].count, 1, 'one live session')
  const current = await app.handoff.db.sql.query<{ count: number }>('SELECT count(*)::int AS count FROM refresh_tokens WHERE rotated_at IS NULL')
  t.equal(current[0].count, 1, 'one current refresh token in its family')

  // The tab that won carries on, as a browser would (its jar holds the new refresh token).
  const winner = tabs[responses.indexOf(rotated[0])]
  for (let i = 0; i < 3; i++) {
    const next = await browse(app, winner, '/auth/refresh', { method: 'POST' })
    t.equal(next.statusCode, 200, `refresh ${i + 1} after the race`)
  }
  t.equal((await browse(app, winner, '/auth/me')).statusCode, 200, 'still signed in')
})

t.test('two callbacks for the same new identity at once: one user, one identity', async t => {
  const { app } = await buildTestApp(t, env)
  github.user = { ...github.user, id: 777, login: 'racer' }
  const [a, b] = [newBrowser(), newBrowser()]
  const [first, second] = await Promise.all([loginThroughProvider(app, a, 'github'), loginThroughProvider(app, b, 'github')])
  const exchanges = await Promise.all([
    browse(app, a, '/auth/exchange', { method: 'POST', payload: { code: first.params.get('code') } }),
    browse(app, b, '/auth/exchange', { method: 'POST', payload: { code: second.params.get('code') } })
  ])
  t.same(exchanges.map(response => response.json().status), ['signup_required', 'signup_required'], 'both tabs are asked for a nickname')
  // Both tabs finish the signup at the same moment, with different nicknames.
  const signups = await Promise.all([
    browse(app, a, '/auth/signup', { method: 'POST', payload: { nickname: 'racer_a' } }),
    browse(app, b, '/auth/signup', { method: 'POST', payload: { nickname: 'racer_b' } })
  ])
  const statuses = signups.map(response => response.statusCode).sort()
  t.notOk(statuses.some(status => status >= 500), `no 5xx (${statuses.join(', ')})`)
  t.same(statuses, [200, 201], 'one tab creates the account, the other signs in to it')
  t.equal(await app.handoff.db.prisma.user.count(), 1, 'one user')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { providerUserId: '777' } }), 1, 'one identity')
  const ids = signups.map(response => response.json().user.id)
  t.equal(ids[0], ids[1], 'both tabs are signed in to the same account')
})

t.test('two app instances on one PostgreSQL database race on the same code', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL): one embedded PGlite cannot be shared by two instances' }, async t => {
  const { app, config, databaseUrl } = await buildTestApp(t, env)
  const other = await buildApp({ config, database: { kind: 'postgres', url: databaseUrl as string } })
  t.teardown(() => other.close())
  const { code, browser } = await returningUserCode(app)
  const tabs = await clones(browser, 60)
  const responses = await Promise.all(tabs.map((tab, i) => browse(i % 2 === 0 ? app : other, tab, '/auth/exchange', { method: 'POST', payload: { code } })))
  t.same(statusCounts(responses.map(response => response.statusCode)), { 200: 1, 400: 59 })
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: null } }), 2, 'the signup session and one from the code')
})
