import t from 'tap'
import { sessionCookies } from '../../src/sessions/cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('DELETE /users/me needs a sign-in within REAUTH_MAX_AGE_SECONDS: 403 reauthentication_required, then 204 after signing in again', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal(config.reauthMaxAgeSeconds, 600, '10 minutes by default')
  const browser = newBrowser()
  await signIn(app, browser)
  const rows = async () => Object.fromEntries(await Promise.all(['users', 'identities', 'sessions', 'refresh_tokens'].map(async table =>
    [table, (await app.handoff.db.sql.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`))[0].count])))

  clock.advance(config.reauthMaxAgeSeconds + 1)
  // A refresh is not a sign-in: the session keeps its age.
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200)
  const before = await rows()
  const refused = await browse(app, browser, '/users/me', { method: 'DELETE' })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'reauthentication_required')
  t.match(refused.json().message, /sign in again/i, 'a message that says what to do')
  t.notOk(parseSetCookies(refused).get(sessionCookies(config).accessName), 'the cookies are left alone')
  t.same(await rows(), before, 'nothing deleted')
  t.notOk((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt, 'the session lives on')
  t.equal((await browse(app, browser, '/users/me')).statusCode, 200, 'still signed in')

  await signIn(app, browser)
  const deleted = await browse(app, browser, '/users/me', { method: 'DELETE' })
  t.equal(deleted.statusCode, 204, 'a fresh sign-in confirms the deletion')
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('a sign-in exactly REAUTH_MAX_AGE_SECONDS old still deletes; REAUTH_MAX_AGE_SECONDS sets the window', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, REAUTH_MAX_AGE_SECONDS: '60' })
  const browser = newBrowser()
  await signIn(app, browser)
  clock.advance(61)
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).json().code, 'reauthentication_required')
  await signIn(app, browser)
  clock.advance(60)
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
})
