import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { buildTestApp, FRONTEND_URL, type TestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, loginThroughProvider, newBrowser } from '../helpers/login.js'
import { APP_LINK_REDIRECT, APP_REDIRECT, appRequest, NATIVE_ENV, nativeLogin, nativeSignIn, pkcePair } from '../helpers/native.js'
import { resetKakao } from '../helpers/provider-resets.js'

// Path A of native apps (RFC 8252): the app opens our login in the system browser with a listed
// redirect_uri and a PKCE challenge; the callback hands the one-time code to that URI; the app
// exchanges it with its verifier for tokens in the body. Runs on PGlite and, with
// TEST_DATABASE_URL, on PostgreSQL.

const github = await startFakeGitHub()
const kakao = await startFakeKakao()
t.teardown(() => Promise.all([github.close(), kakao.close()]))
t.beforeEach(() => {
  github.authorize = 'approve'
  resetKakao(kakao)
})

const build = (t: Tap, env: Record<string, string> = {}) => buildTestApp(t, { ...github.env, ...NATIVE_ENV, ...env })
type Tap = Parameters<typeof buildTestApp>[0]

/** Every row a login may write, counted: a refusal must leave them all as they were. */
async function rows ({ app }: TestApp) {
  const { prisma } = app.handoff.db
  return {
    users: await prisma.user.count(),
    sessions: await prisma.session.count(),
    pendingSignups: await prisma.pendingSignup.count(),
    usedCodes: await prisma.loginCode.count({ where: { usedAt: { not: null } } })
  }
}

t.test('a native login ends at the app\'s redirect with the code and its state; the exchange and the signup answer tokens, never a cookie', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const login = await nativeLogin(app, 'github', { state: 'xyz-42' })
  t.equal(login.callbackResponse.statusCode, 302)
  t.equal(`${login.location.protocol}${login.location.pathname}`, APP_REDIRECT, 'to the app\'s redirect URI, not the frontend')
  t.match(login.code, /^[\w-]{43}$/, 'with a one-time code in the query')
  t.equal(login.state, 'xyz-42', 'and the app\'s own state')
  t.notOk(login.location.toString().includes('gho_'), 'no provider token in the URL')
  t.equal((await app.handoff.db.prisma.loginCode.findFirstOrThrow()).client, 'native', 'the code is a native app\'s')

  const exchange = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: login.code, code_verifier: login.verifier, client: 'native' } })
  t.equal(exchange.statusCode, 200, exchange.body)
  t.equal(exchange.headers['set-cookie'], undefined, 'no cookie for an app')
  const pending = exchange.json()
  t.equal(pending.status, 'signup_required')
  t.equal(pending.profile.suggestedNickname, 'octocat')
  t.match(pending.signupToken, /^[\w-]{43}$/, 'the signup token in the body')
  t.equal(pending.signupExpiresIn, testApp.config.signupTtlSeconds)

  const signup = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'octocat', signupToken: pending.signupToken } })
  t.equal(signup.statusCode, 201, signup.body)
  t.equal(signup.headers['set-cookie'], undefined, 'still no cookie')
  const { user, tokens } = signup.json()
  t.equal(user.nickname, 'octocat')
  t.match(tokens, { tokenType: 'Bearer', expiresIn: testApp.config.accessTokenTtlSeconds, refreshTokenExpiresIn: testApp.config.refreshTokenTtlSeconds })
  t.match(tokens.refreshToken, /^[\w-]{43}$/)
  const session = await app.handoff.db.prisma.session.findFirstOrThrow()
  t.equal(session.client, 'native', 'the session is a native app\'s')
  t.equal(JSON.parse(Buffer.from(tokens.accessToken.split('.')[1], 'base64url').toString()).client, 'native', 'and so says its access token')

  const me = await appRequest(app, 'GET', '/users/me', { accessToken: tokens.accessToken })
  t.equal(me.statusCode, 200, 'the bearer token reaches the account routes')
  t.equal(me.json().user.identities[0].provider, 'github')

  // A returning user: straight to tokens.
  const again = await nativeLogin(app)
  const second = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: again.code, code_verifier: again.verifier, client: 'native' } })
  t.equal(second.statusCode, 200)
  t.equal(second.json().status, 'authenticated')
  t.equal(second.json().user.id, user.id)
  t.match(second.json().tokens, { tokenType: 'Bearer', accessToken: String, refreshToken: String })
  t.equal(second.headers['set-cookie'], undefined)
})

t.test('a redirect target not listed: 400 redirect_uri_not_allowed, no redirect, no cookie, nothing written', async t => {
  const testApp = await build(t)
  const { challenge } = pkcePair()
  const targets = [
    'com.evil.app:/oauth',
    'com.example.app:/oauth/other',
    'com.example.app://oauth',
    'https://evil.example/auth/native',
    'https://app.example.com/auth/native?next=/x',
    'https://app.example.com/auth/native#frag',
    'http://127.0.0.1:8080/elsewhere',
    'http://localhost:8080/callback',
    'http://192.168.0.2/callback',
    'javascript:alert(1)',
    'not a uri'
  ]
  for (const target of targets) {
    const query = new URLSearchParams({ redirect_uri: target, code_challenge: challenge, code_challenge_method: 'S256' })
    const response = await browse(testApp.app, newBrowser(), `/auth/github/login?${query}`)
    t.equal(response.statusCode, 400, `${target}: 400`)
    t.equal(response.json().code, 'redirect_uri_not_allowed', `${target}: redirect_uri_not_allowed`)
    t.equal(response.headers.location, undefined, `${target}: never redirected to`)
    t.equal(response.headers['set-cookie'], undefined, `${target}: no login cookie`)
  }
  // The dev provider's start applies the same rule.
  const dev = await build(t, { DEV_LOGIN: 'true' })
  const devStart = await browse(dev.app, newBrowser(), `/auth/dev/login?${new URLSearchParams({ redirect_uri: 'com.evil.app:/oauth', code_challenge: challenge, code_challenge_method: 'S256' })}`)
  t.equal(devStart.statusCode, 400)
  t.equal(devStart.json().code, 'redirect_uri_not_allowed')
  t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 0, usedCodes: 0 })
})

t.test('PKCE is mandatory with redirect_uri: 400 code_challenge_required', async t => {
  const { app } = await build(t)
  const { challenge } = pkcePair()
  const queries: Array<Record<string, string>> = [{ redirect_uri: APP_REDIRECT }, { redirect_uri: APP_REDIRECT, code_challenge: challenge }, { redirect_uri: APP_REDIRECT, code_challenge_method: 'S256' }]
  for (const query of queries) {
    const response = await browse(app, newBrowser(), `/auth/github/login?${new URLSearchParams(query)}`)
    t.equal(response.statusCode, 400, JSON.stringify(query))
    t.equal(response.json().code, 'code_challenge_required')
    t.equal(response.headers.location, undefined)
  }
  const plain = await browse(app, newBrowser(), `/auth/github/login?${new URLSearchParams({ redirect_uri: APP_REDIRECT, code_challenge: challenge, code_challenge_method: 'plain' })}`)
  t.equal(plain.statusCode, 400, 'the plain method is not accepted')
})

t.test('a loopback redirect matches on any port; a claimed https link works too', async t => {
  const { app } = await build(t)
  const loopback = await nativeLogin(app, 'github', { redirectUri: 'http://127.0.0.1:53682/callback' })
  t.equal(loopback.location.origin, 'http://127.0.0.1:53682', 'back to the app\'s own port')
  t.equal(loopback.location.pathname, '/callback')
  t.ok(loopback.code)
  const ipv6 = await build(t, { NATIVE_REDIRECT_URIS: 'http://[::1]/cb' })
  const v6 = await nativeLogin(ipv6.app, 'github', { redirectUri: 'http://[::1]:40001/cb' })
  t.equal(v6.location.host, '[::1]:40001')
  t.ok(v6.code)
  const link = await nativeLogin(app, 'github', { redirectUri: APP_LINK_REDIRECT })
  t.equal(`${link.location.origin}${link.location.pathname}`, APP_LINK_REDIRECT)
  t.ok(link.code)
})

t.test('a wrong code_verifier: 400 login_code_invalid, nothing created, and the code still works with the right one', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const login = await nativeLogin(app)
  for (const payload of [
    { code: login.code, code_verifier: pkcePair().verifier, client: 'native' },
    { code: login.code, client: 'native' }
  ]) {
    const refused = await appRequest(app, 'POST', '/auth/exchange', { payload })
    t.equal(refused.statusCode, 400)
    t.equal(refused.json().code, 'login_code_invalid')
    t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 0, usedCodes: 0 }, 'nothing created, the code not spent')
  }
  const right = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: login.code, code_verifier: login.verifier, client: 'native' } })
  t.equal(right.statusCode, 200)
  t.equal(right.json().status, 'signup_required')
})

t.test('a native code never redeems as a browser\'s, nor a browser\'s as native', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const login = await nativeLogin(app)
  // In the system browser that ran the login (its binding cookie, if any, sent along), as a browser would.
  for (const payload of [{ code: login.code, code_verifier: login.verifier }, { code: login.code, code_verifier: login.verifier, client: 'browser' }]) {
    const asBrowser = await browse(app, login.browser, '/auth/exchange', { method: 'POST', payload })
    t.equal(asBrowser.statusCode, 400, 'a native code as a browser\'s')
    t.equal(asBrowser.json().code, 'login_code_invalid')
    t.equal(asBrowser.headers['set-cookie'], undefined, 'no cookie set')
  }
  t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 0, usedCodes: 0 })

  // A browser's code, bound to its cookie or to a frontend's challenge, is refused as native.
  const browser = newBrowser()
  const web = await loginThroughProvider(app, browser, 'github')
  const asNative = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: web.params.get('code'), client: 'native' } })
  t.equal(asNative.statusCode, 400, 'a browser code as native, even from its own browser')
  t.equal(asNative.json().code, 'login_code_invalid')
  const { verifier, challenge } = pkcePair()
  const crossSite = await loginThroughProvider(app, newBrowser(), 'github', { loginQuery: `?code_challenge=${challenge}&code_challenge_method=S256` })
  const challenged = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: crossSite.params.get('code'), code_verifier: verifier, client: 'native' } })
  t.equal(challenged.statusCode, 400, 'a frontend\'s challenge-bound code as native')
  t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 0, usedCodes: 0 }, 'nothing created by any of them')

  t.equal((await appRequest(app, 'POST', '/auth/exchange', { payload: { code: login.code, code_verifier: login.verifier, client: 'native' } })).statusCode, 200, 'the native code still works as native')
  t.equal((await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: web.params.get('code') } })).statusCode, 200, 'the browser code as a browser\'s')
})

t.test('a provider error ends at the app\'s redirect with error= and the app\'s state', async t => {
  const testApp = await build(t)
  github.authorize = 'deny'
  const login = await nativeLogin(testApp.app, 'github', { state: 's-1' })
  t.equal(`${login.location.protocol}${login.location.pathname}`, APP_REDIRECT)
  t.equal(login.error, 'access_denied')
  t.equal(login.state, 's-1')
  t.equal(login.code, null)
  t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 0, usedCodes: 0 })
})

t.test('a native signup token is refused from the cookie, a browser\'s from the body', async t => {
  const testApp = await build(t)
  const { app, config } = testApp
  const login = await nativeLogin(app)
  const pending = (await appRequest(app, 'POST', '/auth/exchange', { payload: { code: login.code, code_verifier: login.verifier, client: 'native' } })).json()
  const signupCookie = 'handoff_signup'
  const asCookie = await app.inject({ method: 'POST', url: '/auth/signup', headers: { 'x-requested-with': 'fetch' }, cookies: { [signupCookie]: pending.signupToken }, payload: { nickname: 'octocat' } })
  t.equal(asCookie.statusCode, 401)
  t.equal(asCookie.json().code, 'signup_invalid')

  const browser = newBrowser()
  const web = await loginThroughProvider(app, browser, 'github')
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: web.params.get('code') } })
  const browserToken = await browser.cookie(signupCookie, '/auth') as string
  t.ok(browserToken, 'the browser holds its signup cookie')
  const inBody = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'octocat', signupToken: browserToken } })
  t.equal(inBody.statusCode, 401)
  t.equal(inBody.json().code, 'signup_invalid')
  t.same(await rows(testApp), { users: 0, sessions: 0, pendingSignups: 2, usedCodes: 2 }, 'no account, both signups still pending')

  t.equal((await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'octocat', signupToken: pending.signupToken } })).statusCode, 201, 'each works where it belongs')
  t.equal(config.signupTtlSeconds > 0, true)
})

t.test('a native login cookie planted with an unlisted redirect is ignored at the callback: the code goes to the frontend', async t => {
  const { app, config } = await build(t)
  const browser = newBrowser()
  const { names } = loginCookies(config, 'github')
  const start = await browse(app, browser, '/auth/github/login')
  t.equal(parseSetCookies(start).get(names.native)?.value, '', 'a plain login clears the native cookie')
  await browser.jar.setCookie(`${names.native}=${encodeURIComponent('redirect_uri=com.evil.app%3A%2Foauth&state=x')}; Path=/auth/github/callback`, 'http://localhost/auth/github/callback')
  const authorize = await fetch(String(start.headers.location), { redirect: 'manual' })
  const callbackUrl = new URL(String(authorize.headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const location = new URL(String(callback.headers.location))
  t.equal(location.origin + location.pathname, FRONTEND_URL, 'to the frontend, not the planted target')
})

t.test('native sign-in end to end, with the returning user\'s tokens on the bearer-only routes', async t => {
  const { app } = await build(t)
  const session = await nativeSignIn(app)
  const me = await appRequest(app, 'GET', '/auth/me', { accessToken: session.accessToken })
  t.equal(me.statusCode, 200)
  t.same(me.json().user, { id: session.user.id, nickname: 'octocat', avatarUrl: github.user.avatar_url })
})

t.test('a consent repair round (KAKAO_REQUIRED_FIELDS) keeps the native app: the code still goes to its redirect', async t => {
  const { app } = await buildTestApp(t, { ...kakao.env, ...NATIVE_ENV, KAKAO_REQUIRED_FIELDS: 'email' })
  kakao.declines = [['account_email']]
  const browser = newBrowser()
  const { verifier, challenge } = pkcePair()
  const start = await browse(app, browser, `/auth/kakao/login?${new URLSearchParams({ redirect_uri: APP_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'repair-1' })}`)
  let next = String(start.headers.location)
  let location: URL | undefined
  for (let round = 1; round <= 2 && location === undefined; round++) {
    const authorize = await fetch(next, { redirect: 'manual' })
    const callbackUrl = new URL(String(authorize.headers.get('location')))
    const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
    const target = new URL(String(callback.headers.location))
    if (target.protocol === 'com.example.app:') location = target
    else next = target.toString()
  }
  t.ok(location, 'the second round ends at the app')
  t.equal(location?.searchParams.get('state'), 'repair-1', 'with its state')
  const exchange = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: location?.searchParams.get('code'), code_verifier: verifier, client: 'native' } })
  t.equal(exchange.statusCode, 200, exchange.body)
  t.equal(exchange.json().profile.email, 'gildong@kakao.com', 'with the field asked again')
})
