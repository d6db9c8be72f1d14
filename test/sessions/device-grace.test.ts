import t from 'tap'
import { createLoginCode } from '../../src/auth/login-codes.js'
import { hashSecret } from '../../src/secrets.js'
import { sessionCookies } from '../../src/sessions/cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, PUBLIC_URL } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const SECRET = /^[A-Za-z0-9_-]{43}$/

t.test('a session remembers the browser it was opened in; two sessions of one browser share its device cookie', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const { deviceName } = sessionCookies(config)
  const browser = newBrowser()
  const signup = await signIn(app, browser)
  const flags = parseSetCookies(signup).get(deviceName)
  t.match(flags?.value, SECRET, 'signup sets a device cookie')
  t.ok(flags?.attributes.has('httponly'), 'HttpOnly')
  t.equal(flags?.attributes.get('path'), '/auth', 'sent only to the auth routes')
  t.equal(flags?.attributes.get('samesite'), 'Lax')
  t.notOk(flags?.attributes.has('secure'), 'not Secure over plain http')
  t.equal(flags?.attributes.get('max-age'), String(config.sessionMaxLifetimeSeconds), 'as long as a session can live')

  const exchange = await signIn(app, browser)
  t.equal(parseSetCookies(exchange).get(deviceName)?.value, flags?.value, 'the exchange keeps the browser\'s device cookie')
  const sessions = await app.handoff.db.prisma.session.findMany()
  t.equal(sessions.length, 2)
  t.same(sessions.map(session => session.deviceHash), [hashSecret(flags?.value as string), hashSecret(flags?.value as string)], 'both sessions store its hash, never the cookie')

  const other = newBrowser()
  await other.jar.setCookie(`${deviceName}=not-a-device-secret; Path=/auth`, `${PUBLIC_URL}/auth`)
  const replaced = parseSetCookies(await signIn(app, other)).get(deviceName)?.value
  t.match(replaced, SECRET, 'a malformed device cookie is replaced by a generated one')
  t.not(replaced, flags?.value, 'each browser gets its own')
})

t.test('the device cookie is Secure over https', async t => {
  const { app, clock, config } = await buildTestApp(t, { ...github.env, PUBLIC_URL: 'https://api.example.com', FRONTEND_URL: 'https://api.example.com/app' })
  const { deviceName } = sessionCookies(config)
  const [user] = await app.handoff.db.sql.query<{ id: string }>("INSERT INTO users (nickname, nickname_key) VALUES ('secure', 'secure') RETURNING id")
  const code = await createLoginCode(app.handoff.db.sql, { userId: user.id, identityId: null }, {}, clock.now(), 60)
  const response = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { 'x-requested-with': 'fetch' }, payload: { code } })
  t.equal(response.statusCode, 200)
  const flags = parseSetCookies(response).get(deviceName)
  t.match(flags?.value, SECRET)
  t.ok(flags?.attributes.has('secure'), 'Secure')
  t.ok(flags?.attributes.has('httponly'), 'HttpOnly')
  t.equal(deviceName, '__Host-handoff_device', 'over https no sibling subdomain can plant it')
  t.equal(flags?.attributes.get('path'), '/', '__Host- requires Path=/')
  t.equal(flags?.attributes.get('samesite'), 'Lax')
  t.equal((await app.handoff.db.prisma.session.findFirstOrThrow()).deviceHash, hashSecret(flags?.value as string))
})

t.test('two tabs of one browser refreshing at once both succeed, and the grace is logged', async t => {
  const { app, config, logs, rawLogs } = await buildTestApp(t, github.env, { logs: true })
  const browser = newBrowser()
  await signIn(app, browser)
  const { refreshName } = sessionCookies(config)
  const first = await browser.cookie(refreshName, '/auth') as string
  const [a, b] = await Promise.all([browse(app, browser, '/auth/refresh', { method: 'POST' }), browse(app, browser, '/auth/refresh', { method: 'POST' })])
  t.same([a.statusCode, b.statusCode], [200, 200])
  const session = await app.handoff.db.prisma.session.findFirstOrThrow()
  t.notOk(session.revokedAt)
  const grace = logs.filter(line => line.msg === 'refresh: rotated token presented again within the grace window by the same browser')
  t.equal(grace.length, 1, 'one line for the tab that got the grace')
  t.match(grace[0], { level: 30, userId: session.userId, sessionId: session.id })
  const current = await browser.cookie(refreshName, '/auth') as string
  t.notOk(rawLogs().includes(first) || rawLogs().includes(current), 'no refresh token in the log')
})

for (const [name, foreignDevice] of [['without a device cookie', 'none'], ['with another browser\'s device cookie', 'other']] as const) {
  t.test(`a just-rotated token replayed from another browser (${name}) within the grace window is reuse: the session is revoked`, async t => {
    const { app, config, logs, rawLogs } = await buildTestApp(t, github.env, { logs: true })
    const { deviceName, refreshName } = sessionCookies(config)
    const victim = newBrowser()
    await signIn(app, victim)
    const stolen = await victim.cookie(refreshName, '/auth') as string
    t.equal((await browse(app, victim, '/auth/refresh', { method: 'POST' })).statusCode, 200, 'the victim rotates')
    const victimCurrent = await victim.cookie(refreshName, '/auth') as string

    const attacker = newBrowser()
    await attacker.jar.setCookie(`${refreshName}=${stolen}; Path=/auth`, `${PUBLIC_URL}/auth`)
    if (foreignDevice === 'other') {
      // A real device cookie, of a browser that signed in to another account.
      const [octocat, emails] = [github.user, github.emails]
      github.user = { ...octocat, id: 777, login: 'mallory' }
      github.emails = [{ email: 'mallory@example.com', primary: true, verified: true, visibility: null }]
      t.teardown(() => { github.user = octocat; github.emails = emails })
      const own = newBrowser()
      await signIn(app, own)
      await attacker.jar.setCookie(`${deviceName}=${await own.cookie(deviceName, '/auth') as string}; Path=/auth`, `${PUBLIC_URL}/auth`)
    }
    const replay = await browse(app, attacker, '/auth/refresh', { method: 'POST' })
    t.equal(replay.statusCode, 401, 'no grace for another browser')
    t.equal(replay.json().code, 'refresh_token_reused')
    t.equal(parseSetCookies(replay).get(refreshName)?.value, '', 'its cookies are cleared')

    const session = await app.handoff.db.prisma.session.findFirstOrThrow({ where: { user: { nickname: 'octocat' } } })
    t.ok(session.revokedAt, 'the whole session is revoked')
    const legit = await browse(app, victim, '/auth/refresh', { method: 'POST' })
    t.equal(legit.statusCode, 401, 'the legitimate browser\'s newer refresh token is refused too')

    const reuse = logs.filter(line => line.msg === 'refresh: rotated token reused, session revoked')
    t.equal(reuse.length, 1, 'one warning')
    t.match(reuse[0], { level: 40, userId: session.userId, sessionId: session.id })
    t.notOk(rawLogs().includes(stolen) || rawLogs().includes(victimCurrent), 'no refresh token in the log')
  })
}

t.test('a session opened before device cookies existed adopts the browser at its next refresh; then two tabs refreshing at once both succeed', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const { deviceName, refreshName } = sessionCookies(config)
  const before = newBrowser()
  await signIn(app, before)
  await app.handoff.db.sql.query('UPDATE sessions SET device_hash = NULL')
  // The browser as the upgrade found it: session cookies, no device cookie.
  const browser = newBrowser()
  await browser.jar.setCookie(`${refreshName}=${await before.cookie(refreshName, '/auth') as string}; Path=/auth`, `${PUBLIC_URL}/auth`)

  const first = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(first.statusCode, 200)
  const device = parseSetCookies(first).get(deviceName)
  t.match(device?.value, SECRET, 'the refresh gives the browser a device cookie')
  t.ok(device?.attributes.has('httponly'), 'HttpOnly')
  t.equal((await app.handoff.db.prisma.session.findFirstOrThrow()).deviceHash, hashSecret(device?.value ?? ''), 'and the session adopts its hash')

  const [a, b] = await Promise.all([browse(app, browser, '/auth/refresh', { method: 'POST' }), browse(app, browser, '/auth/refresh', { method: 'POST' })])
  t.same([a.statusCode, b.statusCode], [200, 200], 'two tabs within the grace window')
  t.notOk((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt)
  t.notOk(parseSetCookies(a).has(deviceName) || parseSetCookies(b).has(deviceName), 'a browser with its device cookie is not sent another')
})

t.test('a session that has a device keeps it: a refresh from another browser does not take it over', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const { deviceName, refreshName } = sessionCookies(config)
  const owner = newBrowser()
  await signIn(app, owner)
  const { deviceHash } = await app.handoff.db.prisma.session.findFirstOrThrow()
  const other = newBrowser()
  await other.jar.setCookie(`${refreshName}=${await owner.cookie(refreshName, '/auth') as string}; Path=/auth`, `${PUBLIC_URL}/auth`)
  const refreshed = await browse(app, other, '/auth/refresh', { method: 'POST' })
  t.equal(refreshed.statusCode, 200, 'the current token rotates')
  t.notOk(parseSetCookies(refreshed).has(deviceName), 'no device cookie for a browser that is not the session\'s')
  t.equal((await app.handoff.db.prisma.session.findFirstOrThrow()).deviceHash, deviceHash, 'the session keeps its browser')
})
