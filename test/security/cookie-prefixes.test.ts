import fastifyCookie from '@fastify/cookie'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { sessionCookies } from '../../src/sessions/cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { Browser, parseSetCookies } from '../helpers/cookies.js'
import { browse, loginThroughProvider } from '../helpers/login.js'

// Over https every cookie whose planting would matter is `__Host-`: a browser accepts such a cookie
// only from this very host, Secure, with Path=/ and no Domain, so a sibling subdomain cannot set
// it. tough-cookie (the tests' browser) enforces those rules like a browser does.

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
type SetCookie = { name: string, value: string, attributes: Map<string, string> }

const HTTPS = { ...github.env, PUBLIC_URL: 'https://api.test', FRONTEND_URL: 'https://app.test/auth/done' }
// A sibling subdomain (evil.example.test) can write cookies for the whole of example.test.
const SIBLINGS = { ...github.env, PUBLIC_URL: 'https://api.example.test', FRONTEND_URL: 'https://app.example.test/auth/done' }

const setCookies = (...responses: LightMyRequestResponse[]): SetCookie[] =>
  responses.flatMap(response => [...parseSetCookies(response)].map(([name, { value, attributes }]) => ({ name, value, attributes })))

function assertHostOnly (t: Test, cookies: SetCookie[]): void {
  for (const { name, attributes } of cookies) {
    t.ok(name.startsWith('__Host-'), `${name} is __Host-`)
    t.ok(attributes.has('secure'), `${name} is Secure`)
    t.ok(attributes.has('httponly'), `${name} is HttpOnly`)
    t.equal(attributes.get('path'), '/', `${name} has Path=/`)
    t.notOk(attributes.has('domain'), `${name} has no Domain`)
  }
}

/** What the provider would send the person back with, for a login this browser started (not followed). */
async function startLogin (app: App, browser: Browser, query = ''): Promise<{ start: LightMyRequestResponse, callbackUrl: URL }> {
  const start = await browse(app, browser, `/auth/github/login${query}`)
  const authorize = await fetch(String(start.headers.location), { redirect: 'manual' })
  return { start, callbackUrl: new URL(String(authorize.headers.get('location'))) }
}

const handoffParams = (response: LightMyRequestResponse) => new URLSearchParams(new URL(String(response.headers.location)).hash.slice(1))

t.test('over https a whole login sets only __Host- cookies, and still completes', async t => {
  const { app } = await buildTestApp(t, HTTPS)
  const browser = new Browser('https://api.test')
  const { start, callbackUrl } = await startLogin(app, browser, '?returnTo=%2Fsettings')
  t.equal(callbackUrl.origin, 'https://api.test')
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const params = handoffParams(callback)
  t.equal(params.get('returnTo'), '/settings', 'the return path came back through its cookie')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(exchange.json().status, 'signup_required', 'the code was bound to this browser and exchanged')
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(signup.statusCode, 201, 'the signup cookie reached POST /auth/signup')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200)
  const refresh = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(refresh.statusCode, 200, 'the refresh cookie reached POST /auth/refresh')
  const link = await browse(app, browser, '/auth/github/link', { method: 'POST' })
  t.equal(link.statusCode, 200, 'the link starts (a CSRF-checked POST)')
  t.match(parseSetCookies(link).get('__Host-handoff_github_link_session')?.value, /^[\w-]+$/, 'the link start sets its session cookie')
  const challenged = await startLogin(app, new Browser('https://api.test'), `?code_challenge=${'c'.repeat(43)}`)
  const logout = await browse(app, browser, '/auth/logout', { method: 'POST' })
  t.equal(logout.statusCode, 204)

  const all = setCookies(start, callback, exchange, signup, refresh, link, challenged.start, logout)
  assertHostOnly(t, all)
  // With a value: every start also clears the login cookies it does not set, under the same names.
  const names = new Set(all.filter(cookie => cookie.value !== '').map(cookie => cookie.name))
  for (const name of ['__Host-handoff_github_state', '__Host-handoff_github_verifier', '__Host-handoff_github_return_to', '__Host-handoff_github_code_challenge',
    '__Host-handoff_github_link_session', '__Host-handoff_binding', '__Host-handoff_signup', '__Host-handoff_access', '__Host-handoff_refresh']) {
    t.ok(names.has(name), `${name} is set`)
  }
  t.ok(setCookies(callback).some(cookie => cookie.name === '__Host-handoff_github_state' && cookie.value === ''), 'the callback clears the state under the name it was set with')
  const cleared = setCookies(logout)
  t.same(cleared.map(cookie => [cookie.name, cookie.value]).sort(), [['__Host-handoff_access', ''], ['__Host-handoff_refresh', '']], 'logout clears both session cookies…')
  t.notOk(await browser.cookie('__Host-handoff_refresh'), '…and the browser drops them: same name and path')
  t.notOk(await browser.cookie('__Host-handoff_access'))
})

t.test('the device cookie is __Host- over https as well', async t => {
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), PUBLIC_URL: 'https://api.test', COOKIE_DOMAIN: 'api.test' })
  const jar = sessionCookies(config)
  const app = Fastify()
  await app.register(fastifyCookie)
  app.get('/', async (_request, reply) => { jar.setDevice(reply, 'd'.repeat(43)); return '' })
  t.teardown(() => app.close())
  const cookies = setCookies(await app.inject('/'))
  t.same(cookies.map(cookie => cookie.name), ['__Host-handoff_device'])
  assertHostOnly(t, cookies)
})

t.test('with COOKIE_DOMAIN the session cookies are __Secure- on the domain, the rest stay __Host-', async t => {
  const { app } = await buildTestApp(t, { ...SIBLINGS, COOKIE_DOMAIN: 'example.test' })
  const browser = new Browser('https://api.example.test')
  const { start, callbackUrl } = await startLogin(app, browser)
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: handoffParams(callback).get('code') } })
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(signup.statusCode, 201)
  const refresh = await browse(app, browser, '/auth/refresh', { method: 'POST' })
  t.equal(refresh.statusCode, 200, 'refresh works')

  const session = setCookies(refresh)
  t.same(session.map(cookie => [cookie.name, cookie.attributes.get('domain'), cookie.attributes.get('path')]), [
    ['__Secure-handoff_access', 'example.test', '/'],
    ['__Secure-handoff_refresh', 'example.test', '/auth']
  ], 'shared with sibling subdomains')
  for (const cookie of session) t.ok(cookie.attributes.has('secure') && cookie.attributes.has('httponly'), `${cookie.name} is Secure and HttpOnly`)
  const others = setCookies(start, callback, exchange).concat(setCookies(signup).filter(cookie => !cookie.name.startsWith('__Secure-')))
  t.ok(others.some(cookie => cookie.name === '__Host-handoff_binding') && others.some(cookie => cookie.name === '__Host-handoff_signup'))
  assertHostOnly(t, others)
})

t.test('a state cookie planted by a sibling subdomain does not pass the callback (login CSRF)', async t => {
  const { app } = await buildTestApp(t, SIBLINGS)
  // The attacker starts a login of their own and stops before the callback.
  const attacker = new Browser('https://api.example.test')
  const { callbackUrl } = await startLogin(app, attacker)
  const state = callbackUrl.searchParams.get('state') as string
  const verifier = (await attacker.jar.getCookies('https://api.example.test/')).find(cookie => cookie.key.endsWith('verifier'))?.value as string

  // From evil.example.test, they write their state and verifier into the victim's browser, under
  // today's unprefixed names and the ones used before them, then send the victim to the callback.
  const victim = new Browser('https://api.example.test')
  for (const name of ['handoff_github_state', 'handoff_oauth_state', '__Secure-handoff_github_state']) {
    await victim.jar.setCookie(`${name}=${state}; Secure; HttpOnly; Domain=example.test; Path=/`, 'https://evil.example.test/')
  }
  for (const name of ['handoff_github_verifier', 'handoff_oauth_verifier', '__Secure-handoff_github_verifier']) {
    await victim.jar.setCookie(`${name}=${verifier}; Secure; HttpOnly; Domain=example.test; Path=/`, 'https://evil.example.test/')
  }
  t.ok((await victim.cookieHeader(callbackUrl.pathname)).includes(state), 'the browser does send the planted cookies')
  const callback = await browse(app, victim, callbackUrl.pathname + callbackUrl.search)
  t.equal(handoffParams(callback).get('error'), 'invalid_state')
  t.equal(handoffParams(callback).get('code'), null)
  t.equal(await app.handoff.db.prisma.loginCode.count(), 0, 'no code for the attacker\'s account')
})

t.test('a refresh cookie planted by a sibling subdomain is ignored (no session fixation)', async t => {
  const { app } = await buildTestApp(t, SIBLINGS)
  const attacker = new Browser('https://api.example.test')
  const { callbackUrl } = await startLogin(app, attacker)
  const callback = await browse(app, attacker, callbackUrl.pathname + callbackUrl.search)
  await browse(app, attacker, '/auth/exchange', { method: 'POST', payload: { code: handoffParams(callback).get('code') } })
  t.equal((await browse(app, attacker, '/auth/signup', { method: 'POST', payload: { nickname: 'attacker' } })).statusCode, 201)
  const token = (await attacker.jar.getCookies('https://api.example.test/auth/refresh')).find(cookie => cookie.key.endsWith('handoff_refresh'))?.value as string

  const victim = new Browser('https://api.example.test')
  for (const name of ['handoff_refresh', '__Secure-handoff_refresh']) {
    await victim.jar.setCookie(`${name}=${token}; Secure; HttpOnly; Domain=example.test; Path=/auth`, 'https://evil.example.test/')
  }
  const refresh = await browse(app, victim, '/auth/refresh', { method: 'POST' })
  t.equal(refresh.statusCode, 401, 'the victim is not signed in to the attacker\'s account')
  t.equal(refresh.json().code, 'refresh_token_invalid')
  t.notOk(await victim.cookie('__Host-handoff_access'))
})

t.test('a binding cookie planted by a sibling subdomain does not bind the victim\'s code', async t => {
  const { app, config } = await buildTestApp(t, SIBLINGS)
  await loginThroughProvider(app, new Browser('https://api.example.test'), 'github')
  const known = 'k'.repeat(43)
  const victim = new Browser('https://api.example.test')
  for (const name of ['handoff_binding', '__Secure-handoff_binding']) {
    await victim.jar.setCookie(`${name}=${known}; Secure; HttpOnly; Domain=example.test; Path=/auth`, 'https://evil.example.test/')
  }
  const { params } = await loginThroughProvider(app, victim, 'github')
  t.match(params.get('code'), /^[\w-]{43}$/, 'the victim\'s login completes')
  // The attacker, having read the code (a leaked URL), tries it with the secret they planted.
  const stolen = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { 'x-requested-with': 'fetch' }, payload: { code: params.get('code') }, cookies: { [sessionCookies(config).bindingName]: known } })
  t.equal(stolen.statusCode, 400)
  t.equal(stolen.json().code, 'login_code_invalid')
})
