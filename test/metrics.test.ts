import { randomBytes } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { buildTestApp, PUBLIC_URL, TEST_JWT_SECRET } from './helpers/build-app.js'
import { onPostgres } from './helpers/database.js'
import { browse, newBrowser, signInWithDev } from './helpers/login.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const TOKEN = randomBytes(32).toString('base64url')

/** The public port, over real HTTP: what Prometheus (or anyone) reaches. */
async function listen (app: App): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

/** One sample of the exposition text, by name and exact labels; undefined when absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]))
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

const form = (fields: Record<string, string>) => ({
  method: 'POST' as const,
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' }
})

async function devCallback (app: App, browser = newBrowser(), decision = 'allow') {
  const page = await browse(app, browser, '/auth/dev/login')
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const callback = await browse(app, browser, '/auth/dev/callback', form({ state, decision, id: 'metrics-1', nickname: 'metrics1', email: 'metrics-1@dev.example' }))
  return { state, code: new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code') }
}

t.test('off by default: no /metrics route, no plugin', async t => {
  const { app } = await buildTestApp(t)
  const response = await fetch(`${await listen(app)}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(response.status, 404)
  t.equal(((await response.json()) as { code: string }).code, 'not_found')
  t.notOk(app.hasRoute({ method: 'GET', url: '/metrics' }), 'no /metrics route')
  t.equal(app.handoff.metrics, undefined)
})

t.test('METRICS_TOKEN: /metrics on the public port answers only to the bearer token', async t => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  const base = await listen(app)
  for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Basic ${TOKEN}`, TOKEN]) {
    const refused = await fetch(`${base}/metrics`, { headers: authorization === undefined ? {} : { authorization } })
    t.equal(refused.status, 401, `refused: ${authorization === undefined ? 'no header' : authorization.slice(0, 6)}`)
    t.equal(((await refused.json()) as { code: string }).code, 'metrics_token_invalid')
    t.equal(refused.headers.get('www-authenticate'), 'Bearer realm="metrics"')
  }
  const served = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(served.status, 200)
  t.match(served.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await served.text()
  t.equal(sample(text, 'handoff_refresh_reuse_detected_total'), 0, 'counters start at zero')
  t.equal(sample(text, 'handoff_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: '401' }), 4, 'the refusals were timed by route')

  const docs = await app.inject('/docs/json')
  t.notOk(docs.json().paths['/metrics'], 'not in the public OpenAPI document')
})

t.test('counts logins, exchanges, signups, refreshes, reuse and rate limits by outcome, with no secret in the text', async t => {
  const { app } = await buildTestApp(t, {
    METRICS_TOKEN: TOKEN,
    DEV_LOGIN: 'true',
    REFRESH_REUSE_GRACE_SECONDS: '0',
    RATE_LIMIT_EXCHANGE_PER_MINUTE: '3',
    RATE_LIMIT_NICKNAME_PER_MINUTE: '1'
  })
  const browser = newBrowser()
  // First login: the code, then the nickname signup.
  const first = await devCallback(app, browser)
  t.equal((await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: first.code } })).json().status, 'signup_required')
  t.equal((await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'metrics1' } })).statusCode, 201)
  // A returning user, then the first code again (used), then one exchange too many.
  await signInWithDev(app, browser, 'metrics-1')
  t.equal((await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: first.code } })).json().code, 'login_code_invalid')
  t.equal((await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: first.code } })).statusCode, 429)
  // A refused login and a provider nobody serves (its name must not become a label).
  await devCallback(app, newBrowser(), 'deny')
  t.equal((await app.inject('/auth/not-a-provider-7f3a/callback?code=x&state=y')).statusCode, 404)

  const rotated = await browser.cookie('handoff_refresh', '/auth') as string
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200)
  const replay = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' }, cookies: { handoff_refresh: rotated } })
  t.equal(replay.json().code, 'refresh_token_reused')
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'x-requested-with': 'fetch' } })).json().code, 'refresh_token_invalid')
  await app.inject('/auth/nickname/availability?nickname=abc')
  t.equal((await app.inject('/auth/nickname/availability?nickname=abc')).statusCode, 429)
  t.equal((await app.inject(`/auth/no/such/page/${first.code}`)).statusCode, 404)

  const response = await fetch(`${await listen(app)}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  const text = await response.text()
  t.equal(sample(text, 'handoff_logins_total', { provider: 'dev', outcome: 'success' }), 2)
  t.equal(sample(text, 'handoff_logins_total', { provider: 'dev', outcome: 'access_denied' }), 1)
  t.equal(sample(text, 'handoff_logins_total', { provider: 'unknown', outcome: 'provider_not_found' }), 1)
  for (const [outcome, count] of [['signup_required', 1], ['authenticated', 1], ['login_code_invalid', 1], ['rate_limited', 1]] as const) {
    t.equal(sample(text, 'handoff_code_exchanges_total', { outcome }), count, `exchange ${outcome}`)
  }
  t.equal(sample(text, 'handoff_signups_total', { outcome: 'authenticated' }), 1)
  t.equal(sample(text, 'handoff_refreshes_total', { outcome: 'refreshed' }), 1)
  t.equal(sample(text, 'handoff_refreshes_total', { outcome: 'refresh_token_reused' }), 1)
  t.equal(sample(text, 'handoff_refreshes_total', { outcome: 'refresh_token_invalid' }), 1)
  t.equal(sample(text, 'handoff_refresh_reuse_detected_total'), 1)
  t.equal(sample(text, 'handoff_rate_limited_total', { route: '/auth/exchange' }), 1)
  t.equal(sample(text, 'handoff_rate_limited_total', { route: '/auth/nickname/availability' }), 1)
  t.equal(sample(text, 'handoff_http_request_duration_seconds_count', { method: 'GET', route: '/auth/:provider/callback', status_code: '404' }), 1)
  t.equal(sample(text, 'handoff_http_request_duration_seconds_count', { method: 'POST', route: '/auth/refresh', status_code: '200' }), 1)
  t.equal(sample(text, 'handoff_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' }), 1, 'unknown URLs share one label value')
  t.equal(sample(text, 'handoff_db_pool_connections', { state: 'total' }) !== undefined, onPostgres, 'the pool gauge exists on PostgreSQL only')

  const secrets = {
    'login code': first.code as string,
    state: first.state,
    'rotated refresh token': rotated,
    'refresh token': await browser.cookie('handoff_refresh', '/auth') as string,
    'access token': await browser.cookie('handoff_access') as string,
    'binding cookie': await browser.cookie('handoff_binding', '/auth') as string,
    'device cookie': await browser.cookie('handoff_device', '/auth') as string,
    'metrics token': TOKEN,
    'unknown provider': 'not-a-provider-7f3a'
  }
  for (const [what, value] of Object.entries(secrets)) {
    t.ok(value.length > 0, `${what} was captured`)
    t.notOk(text.includes(value), `no ${what} in the metrics`)
  }
})

t.test('on PostgreSQL the pool gauge reads the pool', { skip: onPostgres ? false : 'PostgreSQL only (TEST_DATABASE_URL)' }, async t => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  await app.inject('/health')
  const text = await (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body
  t.ok((sample(text, 'handoff_db_pool_connections', { state: 'total' }) ?? 0) >= 1, 'a connection is open')
  t.equal(sample(text, 'handoff_db_pool_connections', { state: 'waiting' }), 0)
  t.type(sample(text, 'handoff_db_pool_connections', { state: 'idle' }), 'number')
})

t.test('guessing the token is rate-limited like any route', async t => {
  const { app } = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  for (let i = 0; i < 60; i++) await app.inject({ url: '/metrics', headers: { authorization: `Bearer guess-${i}` } })
  const limited = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
})

t.test('METRICS_PORT: served on its own listener without a token, never on the public port', async t => {
  const { app } = await buildTestApp(t, { METRICS_PORT: '0', DEV_LOGIN: 'true' }, { logs: true })
  await signInWithDev(app, newBrowser(), 'portuser')
  const port = app.handoff.metrics?.port as number
  t.type(port, 'number')
  const served = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(served.status, 200)
  t.match(served.headers.get('content-type'), /^text\/plain/)
  t.equal(sample(await served.text(), 'handoff_logins_total', { provider: 'dev', outcome: 'success' }), 1)
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404, 'nothing else on that port')
  t.equal((await fetch(`${await listen(app)}/metrics`)).status, 404, 'no /metrics on the public port')
})

t.test('two instances in one process keep their own counters', async t => {
  const first = await buildTestApp(t, { METRICS_TOKEN: TOKEN, DEV_LOGIN: 'true' })
  const second = await buildTestApp(t, { METRICS_TOKEN: TOKEN, DEV_LOGIN: 'true' })
  await signInWithDev(first.app, newBrowser(), 'firstuser')
  const scrape = async (app: App) => (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body
  t.equal(sample(await scrape(first.app), 'handoff_logins_total', { provider: 'dev', outcome: 'success' }), 1)
  t.equal(sample(await scrape(second.app), 'handoff_logins_total', { provider: 'dev', outcome: 'success' }), undefined)
})

t.test('settings', async t => {
  const base = { JWT_SECRET: TEST_JWT_SECRET, PUBLIC_URL }
  t.throws(() => loadConfig({ ...base, METRICS_TOKEN: 'short' }), { message: /METRICS_TOKEN: must NOT have fewer than 32 characters/ })
  const production = { NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('base64'), PUBLIC_URL: 'https://auth.example.com' }
  t.throws(() => loadConfig({ ...production, METRICS_TOKEN: 'metrics'.repeat(6) }), { message: /METRICS_TOKEN: too easy to guess for production/ })
  t.equal(loadConfig({ ...production, METRICS_TOKEN: TOKEN }).metrics?.token, TOKEN)
  t.throws(() => loadConfig({ ...base, METRICS_HOST: '0.0.0.0' }), { message: /METRICS_HOST: is only used with METRICS_PORT/ })
  t.throws(() => loadConfig({ ...base, PORT: '3000', METRICS_PORT: '3000' }), { message: /METRICS_PORT: must differ from PORT/ })
  t.same(loadConfig({ ...base, METRICS_PORT: '9464' }).metrics, { token: undefined, port: 9464, host: '127.0.0.1' })
  t.equal(loadConfig(base).metrics, undefined, 'off unless a setting enables it')
})

t.test('a METRICS_PORT in use stops the start, naming the setting', async t => {
  const { createServer } = await import('node:net')
  const taken = createServer()
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const port = (taken.address() as { port: number }).port
  await t.rejects(buildTestApp(t, { METRICS_PORT: String(port) }), { name: 'ConfigError', message: new RegExp(`^Invalid setting METRICS_PORT: cannot listen on 127\\.0\\.0\\.1:${port} \\(listen EADDRINUSE`) })
})
