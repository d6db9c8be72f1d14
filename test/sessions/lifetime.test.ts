import t from 'tap'
import { sessionCookies } from '../../src/sessions/cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const DAY = 86_400

t.test('refreshing every 20 days works until SESSION_MAX_LIFETIME_SECONDS after sign-in, then 401 and cleared cookies', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal(config.sessionMaxLifetimeSeconds, 90 * DAY, '90 days by default')
  const names = sessionCookies(config)
  const browser = newBrowser()
  await signIn(app, browser)
  const { createdAt } = await app.handoff.db.prisma.session.findFirstOrThrow()
  const maxAge = (response: Awaited<ReturnType<typeof browse>>) => Number(parseSetCookies(response).get(names.refreshName)?.attributes.get('max-age'))

  for (const day of [20, 40, 60]) {
    clock.advance(20 * DAY)
    const refreshed = await browse(app, browser, '/auth/refresh', { method: 'POST' })
    t.equal(refreshed.statusCode, 200, `day ${day}: refreshed`)
    t.equal(maxAge(refreshed), config.refreshTokenTtlSeconds, `day ${day}: a full refresh lifetime is left`)
  }
  clock.advance(20 * DAY)
  const last = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(last.statusCode, 200, 'day 80: refreshed')
  t.equal(maxAge(last), 10 * DAY, 'day 80: the refresh cookie lives only until day 90, not 30 more days')
  const session = await app.handoff.db.prisma.session.findFirstOrThrow()
  t.equal(session.expiresAt.getTime() - createdAt.getTime(), 90 * DAY * 1000, 'the session ends 90 days after sign-in')
  const token = await app.handoff.db.prisma.refreshToken.findFirstOrThrow({ where: { rotatedAt: null } })
  t.equal(token.expiresAt.getTime(), session.expiresAt.getTime(), 'and so does its current refresh token')

  clock.advance(20 * DAY)
  const refused = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(refused.statusCode, 401, 'day 100: refused')
  t.equal(refused.json().code, 'refresh_token_invalid')
  const cleared = parseSetCookies(refused)
  t.equal(cleared.get(names.accessName)?.value, '', 'the access cookie is cleared')
  t.equal(cleared.get(names.refreshName)?.value, '', 'the refresh cookie is cleared')
})

t.test('a session whose rows outlive the limit (opened before it existed) is still refused after it', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  // As written before the limit: expiries pushed far past created_at + max lifetime.
  await app.handoff.db.sql.query("UPDATE sessions SET expires_at = created_at + interval '1000 days'")
  await app.handoff.db.sql.query("UPDATE refresh_tokens SET expires_at = created_at + interval '1000 days'")

  clock.advance(config.sessionMaxLifetimeSeconds - 60)
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200, 'a minute before the limit: refreshed')
  const session = await app.handoff.db.prisma.session.findFirstOrThrow()
  t.equal(session.expiresAt.getTime() - session.createdAt.getTime(), config.sessionMaxLifetimeSeconds * 1000, 'the rotation caps the expiry at the limit')
  await app.handoff.db.sql.query("UPDATE sessions SET expires_at = created_at + interval '1000 days'")
  await app.handoff.db.sql.query("UPDATE refresh_tokens SET expires_at = created_at + interval '1000 days'")

  clock.advance(61)
  const refused = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(refused.statusCode, 401, 'a second after the limit: refused by the rotation itself')
  t.equal(refused.json().code, 'refresh_token_invalid')
})

t.test('sessions opened at exchange and signup never expire past the limit, and neither does the refresh cookie', async t => {
  const { app, clock, config } = await buildTestApp(t, { ...github.env, SESSION_MAX_LIFETIME_SECONDS: '3600' })
  t.ok(config.refreshTokenTtlSeconds > 3600, 'the refresh lifetime alone would outlive the limit')
  const names = sessionCookies(config)
  const browser = newBrowser()
  const signup = await signIn(app, browser)
  t.equal(signup.statusCode, 201, 'signup opened the first session')
  const exchange = await signIn(app, browser)
  t.equal(exchange.statusCode, 200, 'the exchange opened the second')
  for (const [step, response] of [['signup', signup], ['exchange', exchange]] as const) {
    t.equal(parseSetCookies(response).get(names.refreshName)?.attributes.get('max-age'), '3600', `${step}: the refresh cookie lives an hour`)
  }
  const sessions = await app.handoff.db.prisma.session.findMany({ include: { refreshTokens: true } })
  t.equal(sessions.length, 2)
  for (const session of sessions) {
    t.equal(session.expiresAt.getTime() - session.createdAt.getTime(), 3600 * 1000, 'the session ends an hour after sign-in')
    t.equal(session.refreshTokens[0].expiresAt.getTime(), session.expiresAt.getTime(), 'and so does its refresh token')
  }
  clock.advance(3601)
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 401, 'after an hour, sign in again')
})
