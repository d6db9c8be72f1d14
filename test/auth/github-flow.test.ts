import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { FRONTEND_URL } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'
import { providerFlow } from '../helpers/provider-flow.js'

// The login flow as the browser and the frontend see it, whatever the provider: state cookie, the
// one-time code, the session cookies, returnTo, the callback's own errors. It runs through the
// GitHub fake; what is GitHub's own (its formats, its failures) is in test/providers/github.test.ts.

const { fake: github, build, failures } = await providerFlow('github', startFakeGitHub, {
  reset: github => {
    github.authorize = 'approve'
    github.token = 'ok'
    github.profile = 'ok'
  }
})

t.test('login binds the state to this browser with a cookie only the callback receives', async t => {
  const { app } = await build(t)
  const response = await browse(app, newBrowser(), '/auth/github/login')
  t.equal(response.statusCode, 302)
  const state = new URL(String(response.headers.location)).searchParams.get('state')
  t.match(state, /^[\w-]{43}$/)
  const stateCookie = parseSetCookies(response).get('handoff_github_state')
  t.equal(stateCookie?.value, state, 'the state is bound to this browser by a cookie')
  t.equal(stateCookie?.attributes.get('path'), '/auth/github/callback')
  t.ok(stateCookie?.attributes.has('httponly'))
  t.equal(stateCookie?.attributes.get('samesite'), 'Lax')
})

t.test('happy path: the frontend gets a one-time code in the fragment, then cookies for it', async t => {
  const { app, config, login, exchange: exchangeCode } = await build(t)
  const outcome = await login()
  const { location, callbackUrl, callbackResponse, browser } = outcome

  t.equal(location.origin + location.pathname, FRONTEND_URL)
  t.equal(location.search, '', 'nothing in the query string')
  const code = outcome.code as string
  t.match(code, /^[\w-]{43}$/, 'a 256-bit code in the fragment')
  t.notOk(location.toString().includes('gho_'), 'no provider token in the URL')
  t.notOk(location.toString().includes(callbackUrl.searchParams.get('code') as string), 'no provider code in the URL')

  // The dance cookies are cleared by this very callback, the one that succeeded: a state is good
  // for one callback, and a leftover return path or link session would steer the next login.
  const cleared = parseSetCookies(callbackResponse)
  for (const name of Object.values(loginCookies(config, 'github').names)) {
    const cookie = cleared.get(name)
    t.equal(cookie?.value, '', `${name} is cleared at the callback`)
    t.equal(cookie?.attributes.get('path'), '/auth/github/callback', `${name} is cleared on its own path`)
    t.equal(cookie?.attributes.get('expires'), 'Thu, 01 Jan 1970 00:00:00 GMT', `${name} expires now`)
    t.equal(await browser.cookie(name, '/auth/github/callback'), undefined, `${name} is gone from the browser`)
  }

  // A first-time GitHub user: no session yet, a signup cookie and a profile to pick a nickname from.
  const exchange = await exchangeCode(outcome)
  t.equal(exchange.statusCode, 200)
  t.same(exchange.json(), {
    status: 'signup_required',
    profile: { suggestedNickname: 'octocat', name: 'The Octocat', email: 'octocat@github.com', avatarUrl: github.user.avatar_url, provider: 'github' }
  })
  t.notOk(parseSetCookies(exchange).has('handoff_access'), 'no session before the nickname')
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(signup.statusCode, 201)
  const body = signup.json()
  t.equal(body.status, 'authenticated')
  t.equal(body.user.nickname, 'octocat')
  t.equal(body.user.avatarUrl, github.user.avatar_url)

  const cookies = parseSetCookies(signup)
  const access = cookies.get('handoff_access')
  const refresh = cookies.get('handoff_refresh')
  t.ok(access?.attributes.has('httponly'), 'access cookie is HttpOnly')
  t.ok(refresh?.attributes.has('httponly'), 'refresh cookie is HttpOnly')
  t.equal(access?.attributes.get('samesite'), 'Lax')
  t.equal(access?.attributes.get('path'), '/')
  t.equal(refresh?.attributes.get('path'), '/auth', 'the refresh token only travels to /auth')
  t.equal(access?.attributes.get('max-age'), String(config.accessTokenTtlSeconds))
  t.equal(refresh?.attributes.get('max-age'), String(config.refreshTokenTtlSeconds))
  t.notOk(access?.attributes.has('secure'), 'not Secure on a plain-http public URL')
  t.equal(access?.value.split('.').length, 3, 'the access cookie is a JWT')

  const me = await browse(app, browser, '/auth/me')
  t.equal(me.statusCode, 200)
  t.same(me.json(), { user: body.user })

  // The rows: one user, its identity (id kept as a string), the code stored hashed and used.
  const identity = await app.handoff.db.prisma.identity.findFirstOrThrow({ include: { user: true } })
  t.equal(identity.provider, 'github')
  t.equal(identity.providerUserId, '583231')
  t.equal(identity.email, 'octocat@github.com')
  t.equal(identity.emailVerified, true)
  t.equal(identity.user.nickname, 'octocat')
  const stored = await app.handoff.db.prisma.loginCode.findFirstOrThrow()
  t.not(stored.codeHash, code, 'the code is stored hashed')
  t.ok(stored.usedAt, 'the code is marked used')
  t.equal(await app.handoff.db.prisma.session.count(), 1)
})

t.test('a second login of the same GitHub account signs in the same user', async t => {
  const { app, login, exchange } = await build(t)
  const first = await signIn(app, newBrowser())
  const second = await exchange(await login())
  t.equal(second.json().status, 'authenticated', 'a returning user signs in directly')
  t.equal(first.json().user.id, second.json().user.id)
  t.equal(await app.handoff.db.prisma.user.count(), 1)
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('returnTo on the frontend origin comes back with the code; any other is dropped', async t => {
  const { login } = await build(t)
  const kept = await login({ loginQuery: '?returnTo=%2Fsettings%3Ftab%3D2' })
  t.equal(kept.params.get('returnTo'), '/settings?tab=2')
  const absolute = await login({ loginQuery: '?returnTo=http%3A%2F%2Ffrontend.test%2Fprofile' })
  t.equal(absolute.params.get('returnTo'), '/profile')
  for (const attempt of ['https://evil.test/x', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)', 'http://frontend.test.evil.test/']) {
    const outcome = await login({ loginQuery: `?returnTo=${encodeURIComponent(attempt)}` })
    t.ok(outcome.code, `login still works with returnTo=${attempt}`)
    t.equal(outcome.params.get('returnTo'), null, `returnTo=${attempt} is dropped`)
  }
})

t.test('HANDOFF_CODE_IN=query puts the code in the query string', async t => {
  const { login } = await build(t, { HANDOFF_CODE_IN: 'query' })
  const { location } = await login()
  t.equal(location.hash, '')
  t.match(location.searchParams.get('code'), /^[\w-]{43}$/)
})

failures([
  { name: 'state mismatch', expected: 'invalid_state', tamper: url => url.searchParams.set('state', 'x'.repeat(43)) },
  { name: 'missing state', expected: 'invalid_state', tamper: url => url.searchParams.delete('state') },
  { name: 'callback without code', expected: 'invalid_callback', tamper: url => url.searchParams.delete('code') }
])

t.test('an unknown provider is a 404 JSON error', async t => {
  const { app } = await build(t)
  for (const url of ['/auth/gitlab/login', '/auth/gitlab/callback?code=x&state=y']) {
    const response = await app.inject(url)
    t.equal(response.statusCode, 404)
    t.equal(response.json().code, 'provider_not_found')
  }
})
