import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'
import { appRequest, NATIVE_ENV, nativeSignIn } from '../helpers/native.js'

// A native app's session after the login: refresh in the body, the access token as a bearer, logout
// and the account routes without cookies; and never a token through the other kind of client's
// channel. Runs on PGlite and, with TEST_DATABASE_URL, on PostgreSQL.

const github = await startFakeGitHub()
t.teardown(() => github.close())

const build = (t: Tap, env: Record<string, string> = {}) => buildTestApp(t, { ...github.env, ...NATIVE_ENV, ...env })
type Tap = Parameters<typeof buildTestApp>[0]

const refreshTokens = async (app: Awaited<ReturnType<typeof build>>['app']) =>
  (await app.handoff.db.prisma.refreshToken.findMany({ orderBy: { createdAt: 'asc' } })).map(({ tokenHash, rotatedAt }) => ({ tokenHash, rotated: rotatedAt !== null }))

t.test('native refresh: the token in the body rotates, new tokens come back in the body, the old one replayed revokes the session', async t => {
  const { app, clock, config } = await build(t)
  const session = await nativeSignIn(app)
  const refreshed = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken } })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.equal(refreshed.headers['set-cookie'], undefined, 'no cookie')
  const { tokens, user } = refreshed.json()
  t.equal(user.id, session.user.id)
  t.match(tokens, { tokenType: 'Bearer', expiresIn: config.accessTokenTtlSeconds })
  t.not(tokens.refreshToken, session.refreshToken, 'a new refresh token')
  t.ok(tokens.refreshTokenExpiresIn > 0 && tokens.refreshTokenExpiresIn <= config.refreshTokenTtlSeconds)
  t.equal((await appRequest(app, 'GET', '/auth/me', { accessToken: tokens.accessToken })).statusCode, 200, 'the new access token works')

  clock.advance(config.refreshReuseGraceSeconds + 1)
  const replay = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken } })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'refresh_token_reused', 'a rotated token presented again is reuse')
  t.equal(replay.headers['set-cookie'], undefined, 'nothing to clear')
  t.ok((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt, 'the session is revoked')
  t.equal((await appRequest(app, 'GET', '/auth/me', { accessToken: tokens.accessToken })).statusCode, 401, 'and its access token refused at once')
  t.equal((await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: tokens.refreshToken } })).statusCode, 401, 'and its newest refresh token too')
})

t.test('native grace window: only the app that holds the session\'s deviceSecret; without one, a replay is reuse at once', async t => {
  const { app } = await build(t)
  const deviceSecret = randomBytes(32).toString('base64url')
  const session = await nativeSignIn(app, 'github', { deviceSecret })
  const first = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken, deviceSecret } })
  t.equal(first.statusCode, 200)
  const second = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken, deviceSecret } })
  t.equal(second.statusCode, 200, 'two requests of one app refreshing at once both succeed')
  t.match(second.json().tokens, { accessToken: String }, 'a new access token')
  t.equal(second.json().tokens.refreshToken, undefined, 'and no refresh token: the app keeps the one the first refresh gave')
  const stranger = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken, deviceSecret: randomBytes(32).toString('base64url') } })
  t.equal(stranger.statusCode, 401, 'the same token with another deviceSecret, even within the window')
  t.equal(stranger.json().code, 'refresh_token_reused')

  const bare = await nativeSignIn(app)
  t.equal((await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: bare.refreshToken } })).statusCode, 200)
  const replay = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: bare.refreshToken } })
  t.equal(replay.json().code, 'refresh_token_reused', 'no deviceSecret: no grace')
})

t.test('a native refresh token presented as a cookie, or a browser\'s in the body: 401 refresh_token_invalid, nothing changes', async t => {
  const { app } = await build(t)
  const native = await nativeSignIn(app)
  const browser = newBrowser()
  await signIn(app, browser)
  const browserRefresh = await browser.cookie('handoff_refresh', '/auth') as string
  const before = await refreshTokens(app)

  const asCookie = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: native.refreshToken } })
  t.equal(asCookie.statusCode, 401)
  t.equal(asCookie.json().code, 'refresh_token_invalid', 'a native token from a cookie')
  const inBody = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: browserRefresh } })
  t.equal(inBody.statusCode, 401)
  t.equal(inBody.json().code, 'refresh_token_invalid', 'a browser token from the body')

  t.same(await refreshTokens(app), before, 'no token rotated, none created')
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: { not: null } } }), 0, 'no session revoked')
  // Logout is no way around it either: each token ends only a session of its own kind.
  await app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: native.refreshToken } })
  await appRequest(app, 'POST', '/auth/logout', { payload: { refreshToken: browserRefresh } })
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: { not: null } } }), 0, 'logout through the wrong channel ends nothing')
  t.equal((await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: native.refreshToken } })).statusCode, 200, 'the native token still works where it belongs')
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200, 'the browser\'s too')
})

t.test('a native session ends SESSION_MAX_LIFETIME_SECONDS after sign-in however often it is refreshed', async t => {
  const { app, clock } = await build(t, { SESSION_MAX_LIFETIME_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '1800' })
  let { refreshToken } = await nativeSignIn(app)
  for (let step = 0; step < 3; step++) {
    clock.advance(1000)
    const refreshed = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken } })
    t.equal(refreshed.statusCode, 200, `refresh ${step + 1}`)
    t.ok(refreshed.json().tokens.refreshTokenExpiresIn <= 3600 - 1000 * (step + 1), 'the refresh token never outlives the session')
    refreshToken = refreshed.json().tokens.refreshToken
  }
  clock.advance(700)
  const late = await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken } })
  t.equal(late.statusCode, 401)
  t.equal(late.json().code, 'refresh_token_invalid')
})

t.test('the access tokens: a native one only as Bearer, a browser cookie\'s never as Bearer', async t => {
  const { app } = await build(t)
  const native = await nativeSignIn(app)
  const browser = newBrowser()
  await signIn(app, browser)
  const browserAccess = await browser.cookie('handoff_access') as string

  for (const url of ['/auth/me', '/users/me', '/auth/sessions']) {
    t.equal((await appRequest(app, 'GET', url, { accessToken: native.accessToken })).statusCode, 200, `${url}: a native token as Bearer`)
    const asCookie = await app.inject({ url, cookies: { handoff_access: native.accessToken } })
    t.equal(asCookie.statusCode, 401, `${url}: a native token as the cookie`)
    t.equal(asCookie.json().code, 'not_authenticated')
    const asBearer = await appRequest(app, 'GET', url, { accessToken: browserAccess })
    t.equal(asBearer.statusCode, 401, `${url}: a browser cookie's token as Bearer`)
    t.equal(asBearer.json().code, 'not_authenticated')
    t.equal((await browse(app, browser, url)).statusCode, 200, `${url}: the browser's own cookie`)
  }
  // A bearer header is the request's credential: a cookie beside it does not stand in for a bad one.
  const both = await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${browserAccess}` }, cookies: { handoff_access: browserAccess } })
  t.equal(both.statusCode, 401, 'a browser token as Bearer, even with the cookie')
  t.equal((await app.inject({ url: '/auth/me', headers: { authorization: 'Bearer not-a-token' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/auth/me', headers: { authorization: 'Bearer' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/auth/me', headers: { authorization: 'Basic dXNlcjpwYXNz' }, cookies: { handoff_access: browserAccess } })).statusCode, 200, 'another scheme is not ours: the cookie counts')
})

t.test('CSRF: a bearer request without cookies needs no X-Requested-With; a cookie-authenticated one still does', async t => {
  const { app } = await build(t)
  const native = await nativeSignIn(app)
  const bearer = { authorization: `Bearer ${native.accessToken}` }
  const rename = await app.inject({ method: 'PATCH', url: '/users/me', headers: bearer, payload: { nickname: 'octo.app' } })
  t.equal(rename.statusCode, 200, 'PATCH /users/me with the bearer token alone')
  t.equal(rename.headers['set-cookie'], undefined, 'no access cookie for an app')
  t.equal(rename.json().user.nickname, 'octo.app')

  const browser = newBrowser()
  await signIn(app, browser, 'github', { nickname: 'octoweb' })
  const cookie = await browser.cookieHeader('/users/me')
  for (const headers of [{ cookie }, { cookie, ...bearer }, { cookie, authorization: 'Bearer x' }]) {
    const forged = await app.inject({ method: 'PATCH', url: '/users/me', headers, payload: { nickname: 'pwned' } })
    t.equal(forged.statusCode, 403, `${Object.keys(headers).join(' + ')}: refused without the header`)
    t.equal(forged.json().code, 'csrf_rejected')
  }
  const crossSite = await app.inject({ method: 'POST', url: '/auth/logout', headers: { ...bearer, origin: 'https://evil.example', cookie } })
  t.equal(crossSite.statusCode, 403, 'a cookie with a bearer header from another origin is still refused')
  t.equal((await app.handoff.db.prisma.user.count({ where: { nickname: 'pwned' } })), 0)
})

t.test('logout, sessions and account deletion with the bearer token: no cookie touched, the token refused at once', async t => {
  const { app } = await build(t)
  const first = await nativeSignIn(app)
  const logout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${first.accessToken}` } })
  t.equal(logout.statusCode, 204)
  t.equal(logout.headers['set-cookie'], undefined, 'nothing to clear')
  t.equal((await appRequest(app, 'GET', '/auth/me', { accessToken: first.accessToken })).statusCode, 401, 'the access token is refused at once')
  t.equal((await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: first.refreshToken } })).statusCode, 401, 'the refresh token too')

  // With only the refresh token (the access token expired): the body.
  const second = await nativeSignIn(app)
  t.equal((await appRequest(app, 'POST', '/auth/logout', { payload: { refreshToken: second.refreshToken } })).statusCode, 204)
  t.equal((await appRequest(app, 'GET', '/auth/me', { accessToken: second.accessToken })).statusCode, 401, 'its session ended')

  const third = await nativeSignIn(app)
  const fourth = await nativeSignIn(app)
  const listed = await appRequest(app, 'GET', '/auth/sessions', { accessToken: fourth.accessToken })
  t.equal(listed.json().sessions.length, 2)
  const thirdId = JSON.parse(Buffer.from(third.accessToken.split('.')[1], 'base64url').toString()).sid
  const revoke = await app.inject({ method: 'DELETE', url: `/auth/sessions/${thirdId}`, headers: { authorization: `Bearer ${fourth.accessToken}` } })
  t.equal(revoke.statusCode, 204)
  t.equal((await appRequest(app, 'GET', '/auth/me', { accessToken: third.accessToken })).statusCode, 401, 'the other device is signed out')

  const linking = await app.inject({ method: 'POST', url: '/auth/github/link', headers: { authorization: `Bearer ${fourth.accessToken}` } })
  t.equal(linking.statusCode, 400, 'linking needs a browser session')
  t.equal(linking.json().code, 'native_link_unsupported')
  t.equal(linking.headers['set-cookie'], undefined)

  const deleted = await app.inject({ method: 'DELETE', url: '/users/me', headers: { authorization: `Bearer ${fourth.accessToken}` } })
  t.equal(deleted.statusCode, 204, 'a fresh native sign-in may delete the account')
  t.equal(deleted.headers['set-cookie'], undefined)
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('no token, code or device secret of a native app reaches the log', async t => {
  const { app, rawLogs } = await buildTestApp(t, { ...github.env, ...NATIVE_ENV, LOG_LEVEL: 'debug' }, { logs: true })
  const deviceSecret = randomBytes(32).toString('base64url')
  const session = await nativeSignIn(app, 'github', { deviceSecret })
  const refreshed = (await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken, deviceSecret } })).json().tokens
  await appRequest(app, 'POST', '/auth/refresh', { payload: { refreshToken: session.refreshToken, deviceSecret: randomBytes(32).toString('base64url') } })
  await appRequest(app, 'GET', '/users/me', { accessToken: refreshed.accessToken })
  const logs = rawLogs()
  t.ok(logs.length > 0, 'the app logged')
  for (const [name, secret] of Object.entries({ accessToken: session.accessToken, refreshToken: session.refreshToken, newAccess: refreshed.accessToken, newRefresh: refreshed.refreshToken, deviceSecret })) {
    t.notOk(logs.includes(secret), `no ${name} in the log`)
  }
})
