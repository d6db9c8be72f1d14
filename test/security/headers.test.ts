import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { signIn, newBrowser } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('security headers on every response, no-store on auth responses', async t => {
  const { app } = await buildTestApp(t, github.env)
  for (const url of ['/health', '/auth/providers', '/auth/me', '/docs/json']) {
    const response = await app.inject(url)
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
    t.match(String(response.headers['content-security-policy']), /default-src 'self'/, `${url}: CSP`)
    t.equal(response.headers['referrer-policy'], 'no-referrer', `${url}: no Referer leaves our pages`)
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN', `${url}: no framing by others`)
  }
  const notFound = await app.inject('/no-such-page')
  t.equal(notFound.statusCode, 404)
  t.match(notFound.headers, {
    'content-security-policy': "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data: https:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0'
  }, 'helmet\'s full set, on a 404 too')
  t.notOk(notFound.headers['x-powered-by'])
  t.notOk(notFound.headers['cache-control'], 'no-store is for auth and account responses')
  t.equal((await app.inject('/auth/providers')).headers['cache-control'], 'no-store')
  t.equal((await app.inject('/auth/me')).headers['cache-control'], 'no-store', 'also on errors')
  t.equal((await app.inject('/auth/github/login')).headers['cache-control'], 'no-store')
  t.notOk((await app.inject('/auth/me')).headers['strict-transport-security'], 'no HSTS on plain http')
})

t.test('CORS: credentials for the frontend origins only', async t => {
  const { app } = await buildTestApp(t, { ...github.env, FRONTEND_ORIGINS: 'https://admin.example.com, https://m.example.com' })
  const preflight = (origin: string) => app.inject({
    method: 'OPTIONS',
    url: '/auth/exchange',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-requested-with' }
  })
  for (const origin of ['http://frontend.test', 'https://admin.example.com', 'https://m.example.com']) {
    const allowed = await preflight(origin)
    t.equal(allowed.headers['access-control-allow-origin'], origin, `${origin} is allowed`)
    t.equal(allowed.headers['access-control-allow-credentials'], 'true')
    t.match(String(allowed.headers['access-control-allow-headers']), /X-Requested-With/i)
  }
  for (const origin of ['https://evil.test', 'http://frontend.test.evil.test', 'null']) {
    const refused = await preflight(origin)
    t.notOk(refused.headers['access-control-allow-origin'], `${origin} gets no CORS grant`)
  }
  const simple = await app.inject({ url: '/auth/me', headers: { origin: 'https://evil.test' } })
  t.notOk(simple.headers['access-control-allow-origin'], 'no grant on simple requests either')
})

t.test('CSRF on every state-changing cookie route', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const cookie = await browser.cookieHeader('/auth/refresh')
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/auth/exchange', { code: 'A'.repeat(43) }],
    ['POST', '/auth/signup', { nickname: 'someone' }],
    ['POST', '/auth/refresh', undefined],
    ['POST', '/auth/logout', undefined],
    ['PATCH', '/users/me', { nickname: 'hijacked' }],
    ['DELETE', '/users/me', undefined],
    ['DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000', undefined]
  ]
  for (const [method, url, payload] of routes) {
    const bare = await app.inject({ method: method as 'POST', url, headers: { cookie }, ...(payload === undefined ? {} : { payload: payload as object }) })
    t.equal(bare.statusCode, 403, `${method} ${url} without X-Requested-With: 403`)
    t.equal(bare.json().code, 'csrf_rejected')
    const foreign = await app.inject({ method: method as 'POST', url, headers: { cookie, 'x-requested-with': 'x', origin: 'https://evil.test' }, ...(payload === undefined ? {} : { payload: payload as object }) })
    t.equal(foreign.statusCode, 403, `${method} ${url} from a foreign origin: 403`)
  }
  const user = await app.handoff.db.prisma.user.findFirstOrThrow()
  t.equal(user.nickname, 'octocat', 'nothing changed')
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: null } }), 1, 'still signed in')
})

t.test('cookie flags follow the deployment', async t => {
  const https = await buildTestApp(t, { ...github.env, PUBLIC_URL: 'https://api.example.com', FRONTEND_URL: 'https://api.example.com/app' })
  t.match(String((await https.app.inject('/health')).headers['strict-transport-security']), /max-age=/, 'HSTS over https')
  const cookies = parseSetCookies(await https.app.inject({ url: '/auth/github/login' }))
  t.ok(cookies.get('__Host-handoff_github_state')?.attributes.has('secure'), 'dance cookies are Secure over https')
  t.ok(cookies.get('__Host-handoff_binding') === undefined, 'the binding cookie is set at the callback, not at login')

  const { sessionCookies } = await import('../../src/sessions/cookies.js')
  const names = (env: Record<string, string>) => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), ...env })
    const jar = sessionCookies(config)
    return [jar.accessName, jar.refreshName, jar.signupName, jar.bindingName, jar.deviceName]
  }
  t.same(names({}), ['handoff_access', 'handoff_refresh', 'handoff_signup', 'handoff_binding', 'handoff_device'], 'plain names on http (local development)')
  t.same(names({ PUBLIC_URL: 'https://api.example.com' }), ['__Host-handoff_access', '__Host-handoff_refresh', '__Host-handoff_signup', '__Host-handoff_binding', '__Host-handoff_device'], '__Host- when no cookie domain')
  t.same(names({ PUBLIC_URL: 'https://api.example.com', COOKIE_DOMAIN: 'example.com' }), ['__Secure-handoff_access', '__Secure-handoff_refresh', '__Host-handoff_signup', '__Host-handoff_binding', '__Host-handoff_device'],
    'with a shared domain, __Secure- for the session pair only: the others are never shared')
})

t.test('unsafe cookie settings stop the server', async t => {
  t.throws(() => loadConfig({ COOKIE_SAMESITE: 'none' }), new ConfigError('Invalid setting COOKIE_SAMESITE: "none" needs an https PUBLIC_URL (browsers drop SameSite=None cookies without Secure)'))
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'nrMHWBzo3xzVxFJZDQo3k7E0B5Nso2B5xmdfthI0n7c', PUBLIC_URL: 'http://api.example.com' }), /Invalid setting PUBLIC_URL: must be https in production/)
  t.ok(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'nrMHWBzo3xzVxFJZDQo3k7E0B5Nso2B5xmdfthI0n7c', PUBLIC_URL: 'http://api.example.com', ALLOW_INSECURE_HTTP: 'true' }), 'unless explicitly allowed')
  t.equal(loadConfig({ PUBLIC_URL: 'https://a.example.com', COOKIE_SAMESITE: 'none' }).cookies.sameSite, 'none')
})
