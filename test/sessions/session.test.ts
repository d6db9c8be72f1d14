import { createSigner } from 'fast-jwt'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, TEST_JWT_SECRET } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('refresh rotates: new cookies, and the old refresh token stops working', async t => {
  const { app } = await buildTestApp(t, github.env)
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

  const replay = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { handoff_refresh: oldRefresh } })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'refresh_token_invalid')
  t.equal(parseSetCookies(replay).get('handoff_refresh')?.value, '', 'a refused refresh clears the cookies')

  // The rows: one session, two generations of refresh token, the first marked rotated.
  const tokens = await app.db.prisma.refreshToken.findMany({ orderBy: { createdAt: 'asc' } })
  t.equal(tokens.length, 2)
  t.ok(tokens.some(token => token.rotatedAt !== null))
  t.equal(new Set(tokens.map(token => token.sessionId)).size, 1)
})

t.test('refresh without a cookie, with garbage, or after expiry is 401', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh' })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { handoff_refresh: 'garbage' } })).statusCode, 401)
  const browser = newBrowser()
  await signIn(app, browser)
  const refresh = await browser.cookie('handoff_refresh', '/auth') as string
  clock.advance(config.refreshTokenTtlSeconds + 1)
  const expired = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { handoff_refresh: refresh } })
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
  const reuse = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { handoff_refresh: refresh } })
  t.equal(reuse.statusCode, 401, 'the revoked session cannot be refreshed')
  const session = await app.db.prisma.session.findFirstOrThrow()
  t.ok(session.revokedAt)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout' })).statusCode, 204, 'logout without a session is still 204')
})

t.test('logout with only the access cookie revokes that session', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const access = await browser.cookie('handoff_access') as string
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', cookies: { handoff_access: access } })).statusCode, 204)
  t.ok((await app.db.prisma.session.findFirstOrThrow()).revokedAt)
})

t.test('/auth/me refuses absent, forged, expired and foreign tokens', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const valid = await browser.cookie('handoff_access') as string
  const [header, payload] = valid.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)
  const sign = (key: string, extra: Record<string, unknown> = {}, algorithm: 'HS256' | 'none' = 'HS256') =>
    createSigner({ key, algorithm, ...(algorithm === 'none' ? {} : { noTimestamp: true }) })({ ...claims, ...extra })

  const cases: Record<string, string | undefined> = {
    absent: undefined,
    garbage: 'not-a-jwt',
    'truncated signature': valid.slice(0, -5),
    'payload swapped': `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${valid.split('.')[2]}`,
    'wrong key': sign('another-secret-that-is-also-32-bytes-long!!'),
    expired: sign(TEST_JWT_SECRET, { iat: now - 3600, exp: now - 60 }),
    'wrong issuer': sign(TEST_JWT_SECRET, { iss: 'http://evil.test' }),
    'wrong audience': sign(TEST_JWT_SECRET, { aud: 'someone-else' }),
    'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`
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

t.test('/auth/me answers from the token alone, without the database', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  // Deleting every row proves no lookup happens; the answer still comes from the JWT.
  await app.db.sql.exec('TRUNCATE users CASCADE')
  const me = await browse(app, browser, '/auth/me')
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.nickname, 'octocat')
})
