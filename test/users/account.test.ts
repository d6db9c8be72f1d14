import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('GET /users/me: the profile and its identities; 401 signed out', async t => {
  const { app } = await buildTestApp(t, github.env)
  t.equal((await app.inject('/users/me')).statusCode, 401)
  const browser = newBrowser()
  await signIn(app, browser)
  const me = await browse(app, browser, '/users/me')
  t.equal(me.statusCode, 200)
  t.match(me.json().user, {
    nickname: 'octocat',
    name: 'The Octocat',
    email: 'octocat@github.com',
    avatarUrl: github.user.avatar_url,
    identities: [{ provider: 'github', email: 'octocat@github.com', emailVerified: true }]
  })
  t.notOk('providerUserId' in me.json().user.identities[0], 'no provider ids leak')
})

t.test('PATCH /users/me renames under the same rules and re-issues the access cookie', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const renamed = await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname: '새이름' } })
  t.equal(renamed.statusCode, 200)
  t.equal(renamed.json().user.nickname, '새이름')
  t.ok(parseSetCookies(renamed).get('handoff_access')?.value, 'a new access cookie')
  t.equal((await browse(app, browser, '/auth/me')).json().user.nickname, '새이름', '/auth/me shows the new nickname at once')
  t.equal((await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname: 'x' } })).json().code, 'nickname_invalid')
  t.equal((await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname: '관리자' } })).json().code, 'nickname_reserved')
  t.equal((await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname: '새이름' } })).statusCode, 200, 'keeping one\'s own nickname is fine')

  await app.handoff.db.sql.query("INSERT INTO users (nickname, nickname_key) VALUES ('Taken', 'taken')")
  const conflict = await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname: 'TAKEN' } })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().code, 'nickname_taken')
})

t.test('DELETE /users/me removes the account, its identities and sessions, and clears cookies', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const other = newBrowser()
  await signIn(app, other)
  await app.handoff.db.sql.query("INSERT INTO users (nickname, nickname_key) VALUES ('bystander', 'bystander')")

  const deleted = await browse(app, browser, '/users/me', { method: 'DELETE' })
  t.equal(deleted.statusCode, 204)
  t.equal(parseSetCookies(deleted).get('handoff_access')?.value, '')
  t.equal(parseSetCookies(deleted).get('handoff_refresh')?.value, '')
  for (const table of ['identities', 'sessions', 'refresh_tokens', 'login_codes', 'pending_signups']) {
    const [row] = await app.handoff.db.sql.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)
    t.equal(row.count, 0, `no ${table} rows left`)
  }
  t.same((await app.handoff.db.prisma.user.findMany()).map(user => user.nickname), ['bystander'], 'only other accounts remain')
  t.equal((await browse(app, other, '/auth/refresh', { method: 'POST' })).statusCode, 401, 'the other browser\'s session is gone too')
  t.equal((await browse(app, other, '/users/me')).statusCode, 401, 'a still-valid access token of a deleted account gets 401')
})

t.test('GET /auth/nickname/availability', async t => {
  const { app } = await buildTestApp(t, github.env)
  await signIn(app, newBrowser())
  const check = async (nickname: string) => (await app.inject({ url: '/auth/nickname/availability', query: { nickname } })).json()
  t.same(await check('free_name'), { nickname: 'free_name', available: true, message: 'This nickname is available.' })
  t.match(await check('OCTOCAT'), { nickname: 'OCTOCAT', available: false, reason: 'taken' })
  t.match(await check('  운영자 '), { nickname: '운영자', available: false, reason: 'reserved' })
  t.match(await check('a'), { available: false, reason: 'invalid', message: /2 to 20/ })
  t.match(await check('\u1112\u1169\u11BC'), { nickname: '홍', available: false, reason: 'invalid' }, 'normalized before it is judged')
  t.equal((await app.inject('/auth/nickname/availability')).statusCode, 400, 'the nickname parameter is required')
})

t.test('availability checks are rate-limited per client', async t => {
  const { app } = await buildTestApp(t)
  const statuses: number[] = []
  for (let i = 0; i < 61; i++) statuses.push((await app.inject({ url: '/auth/nickname/availability', query: { nickname: `name${i}` } })).statusCode)
  t.same(statuses.slice(0, 60), Array(60).fill(200))
  const limited = await app.inject({ url: '/auth/nickname/availability', query: { nickname: 'one_more' } })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  const elsewhere = await app.inject({ url: '/auth/nickname/availability', query: { nickname: 'other' }, remoteAddress: '10.0.0.9' })
  t.equal(elsewhere.statusCode, 200, 'another client is not affected')
})
