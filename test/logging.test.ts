import t from 'tap'
import { redactUrl } from '../src/logger.js'
import { startFakeGitHub } from './fakes/github.js'
import { buildTestApp } from './helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser } from './helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('a full login writes no code, state, token or cookie to the log', async t => {
  const { app, logs, rawLogs } = await buildTestApp(t, github.env, { logs: true })
  github.requests.length = 0
  const browser = newBrowser()
  // Every secret the browser held at some point: read as it is set, and required to be there, so
  // "not in the log" is never checked against nothing.
  const cookies: Record<string, string | undefined> = {}
  const keep = async (label: string, name: string, path: string) => { cookies[label] = await browser.cookie(name, path) }

  const { params, callbackUrl } = await loginThroughProvider(app, browser, 'github', { loginQuery: '?returnTo=%2Fhome' })
  await keep('binding cookie', 'handoff_binding', '/auth')
  const code = params.get('code') as string
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  t.equal(exchange.json().status, 'signup_required', 'a first login')
  await keep('signup cookie', 'handoff_signup', '/auth')
  t.equal((await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })).statusCode, 201)
  await keep('access token', 'handoff_access', '/')
  await keep('refresh token', 'handoff_refresh', '/auth')
  await keep('device cookie', 'handoff_device', '/auth')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200)
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200)
  await keep('rotated refresh token', 'handoff_refresh', '/auth')
  await keep('access token after the refresh', 'handoff_access', '/')
  t.equal((await browse(app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
  // A callback replayed with the codes in the query still logs no secret (it fails: state is gone).
  await browse(app, browser, callbackUrl.pathname + callbackUrl.search)

  const githubToken = /^Bearer (.+)$/.exec(String(github.requests.find(request => request.path === '/api/v3/user')?.headers.authorization))?.[1]
  const secrets: Record<string, string | undefined> = {
    'provider code': callbackUrl.searchParams.get('code') ?? undefined,
    state: callbackUrl.searchParams.get('state') ?? undefined,
    'one-time code': code,
    'GitHub token': githubToken,
    ...cookies
  }
  t.not(cookies['rotated refresh token'], cookies['refresh token'], 'the refresh rotated the token')
  const output = rawLogs()
  t.ok(logs.filter(line => line.msg === 'request completed').length >= 8, 'the requests were logged')
  for (const [name, secret] of Object.entries(secrets)) {
    t.match(secret, /^.{16,}$/, `the ${name} was there to leak`)
    t.notOk(secret !== undefined && output.includes(secret), `no ${name} in the log`)
  }
  t.notOk(output.includes('gho_'), 'nothing that looks like a GitHub token in the log')
  t.notOk(/handoff_(access|refresh|signup|binding|device)=/.test(output), 'no cookie values in the log')
  const callbackLine = logs.find(line => String(line.url ?? '').startsWith('/auth/github/callback'))
  t.match(callbackLine?.url, /code=%5BRedacted%5D&state=%5BRedacted%5D/, 'the callback URL is logged with its secrets redacted')
  const failure = logs.find(line => line.msg === 'login failed')
  t.same({ provider: failure?.provider, error: failure?.error }, { provider: 'github', error: 'invalid_state' }, 'a failed login logs one line saying why')
})

t.test('one access line per request', async t => {
  const { app, logs } = await buildTestApp(t, github.env, { logs: true })
  await app.inject({ url: '/auth/me?token=abc', remoteAddress: '10.1.2.3' })
  await app.inject({ url: '/health' })
  const lines = logs.filter(line => line.msg === 'request completed')
  t.equal(lines.length, 2, 'one line per request')
  t.notOk(logs.some(line => line.msg === 'incoming request'), 'no separate line when a request arrives')
  t.match(lines[0], { level: 30, method: 'GET', url: '/auth/me?token=%5BRedacted%5D', statusCode: 401, remoteAddress: '10.1.2.3', responseTime: Number })
  t.match(lines[0].reqId, /./, 'the request id ties it to the request\'s other lines')
  t.match(lines[1], { url: '/health', statusCode: 200 })
})

t.test('redactUrl keeps the path and harmless parameters', async t => {
  t.equal(redactUrl('/auth/github/login'), '/auth/github/login')
  t.equal(redactUrl('/x?returnTo=%2Fa&code=abc'), '/x?returnTo=%2Fa&code=%5BRedacted%5D')
  t.equal(redactUrl('/x?CODE=1&code=2&access_token=3'), '/x?CODE=%5BRedacted%5D&code=%5BRedacted%5D&access_token=%5BRedacted%5D')
})
