import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())
t.beforeEach(() => {
  github.requests.length = 0
  github.authorize = 'approve'
  github.token = 'ok'
  github.profile = 'ok'
})

t.test('login redirects to GitHub with state, PKCE and the callback URL', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  const response = await browse(app, browser, '/auth/github/login')
  t.equal(response.statusCode, 302)
  const location = new URL(String(response.headers.location))
  t.equal(location.origin + location.pathname, `${github.webUrl}/login/oauth/authorize`)
  t.equal(location.searchParams.get('client_id'), github.clientId)
  t.equal(location.searchParams.get('redirect_uri'), 'http://localhost/auth/github/callback')
  t.equal(location.searchParams.get('scope'), 'read:user user:email')
  t.equal(location.searchParams.get('code_challenge_method'), 'S256')
  t.match(location.searchParams.get('code_challenge'), /^[\w-]{43}$/)
  const state = location.searchParams.get('state')
  t.match(state, /^[\w-]{43}$/)
  const cookies = parseSetCookies(response)
  const stateCookie = cookies.get('handoff_github_state')
  t.equal(stateCookie?.value, state, 'the state is bound to this browser by a cookie')
  t.equal(stateCookie?.attributes.get('path'), '/auth/github/callback')
  t.ok(stateCookie?.attributes.has('httponly'))
  t.equal(stateCookie?.attributes.get('samesite'), 'Lax')
})

t.test('happy path: the frontend gets a one-time code in the fragment, then cookies for it', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  const { location, params, callbackUrl } = await loginThroughProvider(app, browser, 'github')

  t.equal(location.origin + location.pathname, FRONTEND_URL)
  t.equal(location.search, '', 'nothing in the query string')
  const code = params.get('code') as string
  t.match(code, /^[\w-]{43}$/, 'a 256-bit code in the fragment')
  t.notOk(location.toString().includes('gho_'), 'no provider token in the URL')
  t.notOk(location.toString().includes(callbackUrl.searchParams.get('code') as string), 'no provider code in the URL')

  // What we sent GitHub: the same redirect_uri twice, the PKCE verifier, the secret in the body,
  // a User-Agent and JSON Accept on every call.
  const authorize = github.requests.find(request => request.path === '/login/oauth/authorize')
  const token = github.requests.find(request => request.path === '/login/oauth/access_token')
  t.ok(token)
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri)
  t.equal(token?.body.client_secret, github.clientSecret)
  t.match(token?.body.code_verifier, /^[\w-]{43}$/)
  t.match(String(token?.headers.accept), /application\/json/)
  for (const call of github.requests.filter(request => request.path.startsWith('/api/v3/'))) {
    t.ok(call.headers['user-agent'], `${call.path} has a User-Agent`)
    t.match(String(call.headers.authorization), /^Bearer gho_/)
  }

  // The dance cookies are cleared at the callback.
  const cleared = parseSetCookies(await app.inject({ url: callbackUrl.pathname + callbackUrl.search }))
  t.equal(cleared.get('handoff_github_state')?.value, '')

  // A first-time GitHub user: no session yet, a signup cookie and a profile to pick a nickname from.
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
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
  const { app } = await buildTestApp(t, github.env)
  const first = await signIn(app, newBrowser())
  const browser = newBrowser()
  const second = (await loginThroughProvider(app, browser, 'github')).params.get('code')
  const b = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: second } })
  t.equal(b.json().status, 'authenticated', 'a returning user signs in directly')
  t.equal(first.json().user.id, b.json().user.id)
  t.equal(await app.handoff.db.prisma.user.count(), 1)
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('returnTo on the frontend origin comes back with the code; any other is dropped', async t => {
  const { app } = await buildTestApp(t, github.env)
  const kept = await loginThroughProvider(app, newBrowser(), 'github', { loginQuery: '?returnTo=%2Fsettings%3Ftab%3D2' })
  t.equal(kept.params.get('returnTo'), '/settings?tab=2')
  const absolute = await loginThroughProvider(app, newBrowser(), 'github', { loginQuery: '?returnTo=http%3A%2F%2Ffrontend.test%2Fprofile' })
  t.equal(absolute.params.get('returnTo'), '/profile')
  for (const attempt of ['https://evil.test/x', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)', 'http://frontend.test.evil.test/']) {
    const outcome = await loginThroughProvider(app, newBrowser(), 'github', { loginQuery: `?returnTo=${encodeURIComponent(attempt)}` })
    t.ok(outcome.params.get('code'), `login still works with returnTo=${attempt}`)
    t.equal(outcome.params.get('returnTo'), null, `returnTo=${attempt} is dropped`)
  }
})

t.test('HANDOFF_CODE_IN=query puts the code in the query string', async t => {
  const { app } = await buildTestApp(t, { ...github.env, HANDOFF_CODE_IN: 'query' })
  const { location } = await loginThroughProvider(app, newBrowser(), 'github')
  t.equal(location.hash, '')
  t.match(location.searchParams.get('code'), /^[\w-]{43}$/)
})

const failures: Array<{ name: string, expected: string, setup?: () => void, tamper?: (url: URL) => void, env?: Record<string, string> }> = [
  { name: 'denied consent', expected: 'access_denied', setup: () => { github.authorize = 'deny' } },
  { name: 'state mismatch', expected: 'invalid_state', tamper: url => url.searchParams.set('state', 'x'.repeat(43)) },
  { name: 'missing state', expected: 'invalid_state', tamper: url => url.searchParams.delete('state') },
  { name: 'callback without code', expected: 'invalid_callback', tamper: url => url.searchParams.delete('code') },
  { name: 'provider token error (200 with error)', expected: 'provider_token_error', setup: () => { github.token = 'bad_verification_code' } },
  { name: 'token endpoint 500', expected: 'provider_token_error', setup: () => { github.token = 'status500' } },
  { name: 'token endpoint garbage', expected: 'provider_token_error', setup: () => { github.token = 'garbage' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { github.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'profile 401', expected: 'provider_profile_error', setup: () => { github.profile = 'unauthorized' } },
  { name: 'profile garbage', expected: 'provider_profile_error', setup: () => { github.profile = 'garbage' } },
  { name: 'profile hangs', expected: 'provider_timeout', setup: () => { github.profile = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'wrong client secret', expected: 'provider_token_error', env: { GITHUB_CLIENT_SECRET: 'wrong' } }
]

for (const failure of failures) {
  t.test(`${failure.name}: redirect to the frontend with error=${failure.expected}, nothing written`, async t => {
    const { app } = await buildTestApp(t, { ...github.env, ...failure.env })
    failure.setup?.()
    const { location, params, callbackResponse } = await loginThroughProvider(app, newBrowser(), 'github', { tamperCallback: failure.tamper })
    t.equal(callbackResponse.statusCode, 302)
    t.equal(location.origin + location.pathname, FRONTEND_URL)
    t.equal(params.get('error'), failure.expected)
    t.equal(params.get('code'), null)
    t.equal(await app.handoff.db.prisma.user.count(), 0)
    t.equal(await app.handoff.db.prisma.loginCode.count(), 0)
  })
}

t.test('an unknown provider is a 404 JSON error', async t => {
  const { app } = await buildTestApp(t, github.env)
  for (const url of ['/auth/gitlab/login', '/auth/gitlab/callback?code=x&state=y']) {
    const response = await app.inject(url)
    t.equal(response.statusCode, 404)
    t.equal(response.json().code, 'provider_not_found')
  }
})

t.test('GitHub is not offered when it is not configured', async t => {
  const { app } = await buildTestApp(t)
  t.same((await app.inject('/auth/providers')).json(), { providers: [] })
  t.equal((await app.inject('/auth/github/login')).statusCode, 404)
})
