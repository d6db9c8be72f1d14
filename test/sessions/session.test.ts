import { createSigner } from 'fast-jwt'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, TEST_JWT_SECRET } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('refresh rotates: new cookies, and the old refresh token stops working', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const oldRefresh = await browser.cookie('handoff_refresh', '/auth') as string
  const oldAccess = await browser.cookie('handoff_access') as string

  const refreshed = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.json().status, 'refreshed')
  t.equal(refreshed.json().user.nickname, 'octocat')
  const cookies = parseSetCookies(refreshed)
  t.ok(cookies.get('handoff_refresh')?.attributes.has('httponly'))
  t.not(cookies.get('handoff_refresh')?.value, oldRefresh, 'a new refresh token')
  const newAccess = cookies.get('handoff_access')?.value as string
  const sessionOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid
  t.equal(sessionOf(newAccess), sessionOf(oldAccess), 'a new access token for the same session')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200)

  clock.advance(config.refreshReuseGraceSeconds + 1)
  const replay = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: oldRefresh } })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'refresh_token_reused', 'a rotated token presented again is reuse')
  t.equal(parseSetCookies(replay).get('handoff_refresh')?.value, '', 'a refused refresh clears the cookies')

  // The rows: one session, two generations of refresh token, the first marked rotated.
  const tokens = await app.handoff.db.prisma.refreshToken.findMany({ orderBy: { createdAt: 'asc' } })
  t.equal(tokens.length, 2)
  t.ok(tokens.some(token => token.rotatedAt !== null))
  t.equal(new Set(tokens.map(token => token.sessionId)).size, 1)
})

t.test('refresh without a cookie, with garbage, or after expiry is 401', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: 'garbage' } })).statusCode, 401)
  const browser = newBrowser()
  await signIn(app, browser)
  const refresh = await browser.cookie('handoff_refresh', '/auth') as string
  clock.advance(config.refreshTokenTtlSeconds + 1)
  const expired = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: refresh } })
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'refresh_token_invalid')
})

t.test('logout revokes the session and clears both cookies', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const refresh = await browser.cookie('handoff_refresh', '/auth') as string
  const logout = await browse(app, browser, '/auth/logout', { method: 'POST' })
  t.equal(logout.statusCode, 204)
  const cookies = parseSetCookies(logout)
  t.equal(cookies.get('handoff_access')?.value, '')
  t.equal(cookies.get('handoff_refresh')?.value, '')
  t.equal(cookies.get('handoff_refresh')?.attributes.get('path'), '/auth', 'cleared on the path it was set on')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 401, 'the browser is signed out')
  const reuse = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: refresh } })
  t.equal(reuse.statusCode, 401, 'the revoked session cannot be refreshed')
  const session = await app.handoff.db.prisma.session.findFirstOrThrow()
  t.ok(session.revokedAt)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' } })).statusCode, 204, 'logout without a session is still 204')
})

t.test('logout with only the access cookie revokes that session', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const access = await browser.cookie('handoff_access') as string
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_access: access } })).statusCode, 204)
  t.ok((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt)
})

t.test('/auth/me refuses absent, forged, expired and foreign tokens', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const valid = await browser.cookie('handoff_access') as string
  const [header, payload] = valid.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)
  // The forgeries carry our key id, so each fails for its own reason, not for an unknown kid.
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString())
  const sign = (key: string, extra: Record<string, unknown> = {}) => createSigner({ key, algorithm: 'HS256', kid })({ ...claims, ...extra })

  const cases: Record<string, string | undefined> = {
    absent: undefined,
    garbage: 'not-a-jwt',
    'truncated signature': valid.slice(0, -5),
    'payload swapped': `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${valid.split('.')[2]}`,
    'wrong key': sign('another-secret-that-is-also-32-bytes-long!!'),
    expired: sign(TEST_JWT_SECRET, { iat: now - 960, exp: now - 60 }),
    'wrong issuer': sign(TEST_JWT_SECRET, { iss: 'http://evil.test' }),
    'wrong audience': sign(TEST_JWT_SECRET, { aud: 'someone-else' }),
    'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid })).toString('base64url')}.${payload}.`,
    'no key id': createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })({ ...claims, iat: now, exp: now + 60 }),
    'unknown key id': createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', kid: 'not-our-key' })({ ...claims, iat: now, exp: now + 60 })
  }
  for (const [name, token] of Object.entries(cases)) {
    const response = await app.inject({ url: '/auth/me', cookies: token === undefined ? {} : { handoff_access: token } })
    t.equal(response.statusCode, 401, `${name}: 401`)
    t.equal(response.json().code, 'not_authenticated', `${name}: not_authenticated`)
  }
  t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: sign(TEST_JWT_SECRET, { iat: now, exp: now + 60 }) } })).statusCode, 200,
    'a token we would sign ourselves is accepted (the cases above fail for their reason only)')
  t.equal((await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${valid}` } })).statusCode, 401, 'only the cookie is read, never a header')
  t.equal(claims.iss, config.publicUrl)
  t.equal(claims.aud, 'handoff')
  t.ok(claims.sid && claims.sub && claims.exp - claims.iat === config.accessTokenTtlSeconds)
})

t.test('a token verified before is still refused once it expires (the verified-token cache)', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const valid = await browser.cookie('handoff_access') as string
  const [header, payload] = valid.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString())
  const expiresAt = Math.floor(Date.now() / 1000) + 1
  const shortLived = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', kid })({ ...claims, exp: expiresAt })
  const me = () => app.inject({ url: '/auth/me', cookies: { handoff_access: shortLived } })
  t.equal((await me()).statusCode, 200, 'valid, and now remembered')
  t.equal((await me()).statusCode, 200, 'valid again')
  await new Promise(resolve => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50))
  const expired = await me()
  t.equal(expired.statusCode, 401, 'refused at its exp, not served from the cache')
  t.equal(expired.json().code, 'not_authenticated')

  const first = await app.inject({ url: '/auth/me', cookies: { handoff_access: valid } })
  const again = await app.inject({ url: '/auth/me', cookies: { handoff_access: valid } })
  t.same(again.json(), first.json(), 'a remembered token answers with the same user')
})

t.test('/auth/me answers from the token alone, without the database', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  // Deleting every row proves no lookup happens; the answer still comes from the JWT.
  await app.handoff.db.sql.exec('TRUNCATE users CASCADE')
  const me = await browse(app, browser, '/auth/me')
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.nickname, 'octocat')
})

t.test('reuse of a rotated refresh token revokes the whole session (family)', async t => {
  const { app, clock } = await buildTestApp(t, github.env)
  const victim = newBrowser()
  await signIn(app, victim)
  const stolen = await victim.cookie('handoff_refresh', '/auth') as string
  // The thief refreshes first; later the victim's browser presents the same (now rotated) token.
  const thief = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: stolen } })
  t.equal(thief.statusCode, 200)
  const thiefRefresh = parseSetCookies(thief).get('handoff_refresh')?.value as string
  clock.advance(60)
  const victimTry = await browse(app, victim, '/auth/refresh', { method: 'POST' })
  t.equal(victimTry.statusCode, 401)
  t.equal(victimTry.json().code, 'refresh_token_reused')
  const thiefAgain = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: thiefRefresh } })
  t.equal(thiefAgain.statusCode, 401, 'the thief\'s newer token dies with the family')
  t.ok((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt, 'the session is revoked')
})

t.test('two tabs refreshing at once within the grace window both succeed, one session remains', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  t.ok(config.refreshReuseGraceSeconds > 0 && config.refreshReuseGraceSeconds <= 30, 'a few seconds by default')
  const browser = newBrowser()
  await signIn(app, browser)
  const [a, b] = await Promise.all([browse(app, browser, '/auth/refresh', { method: 'POST' }), browse(app, browser, '/auth/refresh', { method: 'POST' })])
  t.same([a.statusCode, b.statusCode], [200, 200])
  const refreshCookies = [a, b].map(response => parseSetCookies(response).get('handoff_refresh')?.value).filter(Boolean)
  t.equal(refreshCookies.length, 1, 'only the winner hands out a new refresh token')
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200, 'the browser still holds a working refresh token')
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: null } }), 1)
})

t.test('GET /auth/sessions lists the user\'s sessions; DELETE revokes one; logout?all=true revokes all', async t => {
  const { app } = await buildTestApp(t, github.env)
  const laptop = newBrowser()
  const phone = newBrowser()
  await signIn(app, laptop)
  await signIn(app, phone)
  const list = await browse(app, laptop, '/auth/sessions')
  t.equal(list.statusCode, 200)
  const sessions = list.json().sessions as Array<{ id: string, current: boolean }>
  t.equal(sessions.length, 2)
  t.equal(sessions.filter(session => session.current).length, 1)
  const phoneSession = sessions.find(session => !session.current) as { id: string }

  const revoke = await browse(app, laptop, `/auth/sessions/${phoneSession.id}`, { method: 'DELETE' })
  t.equal(revoke.statusCode, 204)
  t.equal((await browse(app, phone, '/users/me')).statusCode, 401, 'the revoked session is refused at once where the session is checked')
  t.equal((await browse(app, phone, '/auth/refresh', { method: 'POST' })).statusCode, 401, 'and cannot refresh')
  t.equal((await browse(app, laptop, `/auth/sessions/${phoneSession.id}`, { method: 'DELETE' })).statusCode, 404, 'already revoked')
  t.equal((await browse(app, laptop, '/auth/sessions/00000000-0000-4000-8000-000000000000', { method: 'DELETE' })).statusCode, 404)

  const tablet = newBrowser()
  await signIn(app, tablet)
  t.equal((await browse(app, laptop, '/auth/logout?all=true', { method: 'POST' })).statusCode, 204)
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: null } }), 0, 'every session is revoked')
  t.equal((await browse(app, tablet, '/auth/refresh', { method: 'POST' })).statusCode, 401)
})

t.test('a session of another user cannot be revoked', async t => {
  const { app } = await buildTestApp(t, github.env)
  await signIn(app, newBrowser())
  const other = await app.handoff.db.prisma.session.findFirstOrThrow()
  const [octocat, emails] = [github.user, github.emails]
  github.user = { ...octocat, id: 4242, login: 'stranger' }
  github.emails = [{ email: 'stranger@example.com', primary: true, verified: true, visibility: null }]
  t.teardown(() => { github.user = octocat; github.emails = emails })
  const stranger = newBrowser()
  await signIn(app, stranger)
  t.equal((await browse(app, stranger, `/auth/sessions/${other.id}`, { method: 'DELETE' })).statusCode, 404)
  t.notOk((await app.handoff.db.prisma.session.findUniqueOrThrow({ where: { id: other.id } })).revokedAt)
})

t.test('key rotation: tokens signed with a previous secret verify until they expire', async t => {
  const oldSecret = 'the-previous-signing-secret-of-32-bytes!'
  const before = await buildTestApp(t, { ...github.env, JWT_SECRET: oldSecret })
  const browser = newBrowser()
  await signIn(before.app, browser)
  const oldToken = await browser.cookie('handoff_access') as string
  // The next deployment signs with a new secret and keeps the old one for verification only.
  const after = await buildTestApp(t, { ...github.env, JWT_PREVIOUS_SECRETS: oldSecret })
  t.equal((await after.app.inject({ url: '/auth/me', cookies: { handoff_access: oldToken } })).statusCode, 200, 'old tokens still verify')
  const without = await buildTestApp(t, github.env)
  t.equal((await without.app.inject({ url: '/auth/me', cookies: { handoff_access: oldToken } })).statusCode, 401, 'once the old secret is dropped, they do not')
})
