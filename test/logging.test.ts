import t from 'tap'
import { redactUrl } from '../src/logger.js'
import { startFakeGitHub } from './fakes/github.js'
import { buildTestApp } from './helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser } from './helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('a full login writes no code, state, token or cookie to the log', async t => {
  const { app, logs, rawLogs } = await buildTestApp(t, github.env, { logs: true })
  const browser = newBrowser()
  const { params, callbackUrl } = await loginThroughProvider(app, browser, 'github', { loginQuery: '?returnTo=%2Fhome' })
  const code = params.get('code') as string
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  await browse(app, browser, '/auth/me')
  await browse(app, browser, '/auth/refresh', { method: 'POST' })
  await browse(app, browser, '/auth/logout', { method: 'POST' })
  // A callback replayed with the codes in the query still logs no secret (it fails: state is gone).
  await browse(app, browser, callbackUrl.pathname + callbackUrl.search)

  const secrets = {
    'provider code': callbackUrl.searchParams.get('code') as string,
    state: callbackUrl.searchParams.get('state') as string,
    'one-time code': code,
    'access token': (await browser.jar.getCookies('http://localhost/')).find(c => c.key === 'handoff_access')?.value ?? '',
    'GitHub token': 'gho_'
  }
  const output = rawLogs()
  t.ok(logs.filter(line => line.msg === 'request completed').length >= 7, 'the requests were logged')
  for (const [name, secret] of Object.entries(secrets)) {
    if (secret === '') continue
    t.notOk(output.includes(secret), `no ${name} in the log`)
  }
  t.notOk(/handoff_(access|refresh)=/.test(output), 'no cookie values in the log')
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
