import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { Browser } from '../helpers/cookies.js'
import { onPostgres, testDatabaseUrl } from '../helpers/database.js'
import { browse, newBrowser } from '../helpers/login.js'
import { devLoginCode, devSignUp, request, startServer, stopServer } from './server-process.js'

// Faults: the database going away and coming back, providers that hang, reset or babble, and the
// process itself stopped (SIGTERM), killed (SIGKILL) and restarted.

const testEnv = { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent', DEV_LOGIN: 'true', RATE_LIMIT_ENABLED: 'false' }

/** Signs a dev identity in through inject: a browser with session cookies. */
async function signInDev (app: Awaited<ReturnType<typeof buildApp>>, id: string): Promise<Browser> {
  const browser = newBrowser()
  const form = (await browse(app, browser, '/auth/dev/login')).body
  const state = /name="state" value="([^"]+)"/.exec(form)?.[1] as string
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ state, decision: 'allow', id, nickname: id, name: id, email: '' }).toString() })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: id } })
  if (signup.statusCode !== 201) throw new Error(`signup ${signup.statusCode} ${signup.body}`)
  return browser
}

async function expectUnavailable (t: Test, app: Awaited<ReturnType<typeof buildApp>>, browser: Browser, when: string) {
  const health = await app.inject('/health')
  t.equal(health.statusCode, 503, `${when}: /health is 503`)
  t.same(health.json(), { status: 'unavailable', database: 'unavailable' })
  for (const [method, url] of [['GET', '/users/me'], ['POST', '/auth/refresh'], ['GET', '/auth/nickname/availability?nickname=someone']] as const) {
    const response = await browse(app, browser, url, { method })
    t.equal(response.statusCode, 503, `${when}: ${method} ${url} is 503`)
    t.equal(response.json().code, 'database_unavailable')
  }
  const me = await browse(app, browser, '/auth/me')
  t.equal(me.statusCode, 200, `${when}: the access token alone still answers /auth/me`)
}

t.test('PGlite closed under the app: 503 database_unavailable, /health 503, the process stays up', async t => {
  const instance = await PGlite.create()
  const app = await buildApp({ config: loadConfig(testEnv), database: { kind: 'pglite', instance } })
  t.teardown(() => app.close())
  const browser = await signInDev(app, 'embedded')
  await instance.close()
  await expectUnavailable(t, app, browser, 'after close')
  await expectUnavailable(t, app, browser, 'and again')
})

/** A TCP proxy in front of PostgreSQL that a test can take down (refusing, connections cut) and bring back. */
async function startProxy (target: URL) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const up = async () => {
    server = net.createServer(client => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname)
      for (const socket of [client, upstream]) { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); socket.on('error', () => {}) }
      client.pipe(upstream).pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as net.AddressInfo).port
  }
  const down = async () => {
    const closed = once(server as net.Server, 'close')
    server?.close()
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await up()
  return { port: () => port, up, down }
}

t.test('PostgreSQL going away and coming back: 503 while it is gone, recovery by itself', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL)' }, async t => {
  const { config, databaseUrl } = await buildTestApp(t, testEnv)
  const url = new URL(databaseUrl as string)
  const proxy = await startProxy(url)
  t.teardown(() => proxy.down().catch(() => {}))
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(proxy.port())
  const app = await buildApp({ config, database: { kind: 'postgres', url: proxied.toString() } })
  t.teardown(() => app.close())
  const browser = await signInDev(app, 'pgfault')

  await proxy.down()
  await expectUnavailable(t, app, browser, 'server gone')
  await proxy.up()
  // The pool drops broken clients as they fail; the next requests get fresh connections.
  let health = 0
  for (let i = 0; i < 5 && health !== 200; i++) health = (await app.inject('/health')).statusCode
  t.equal(health, 200, 'back: /health 200')
  t.equal((await browse(app, browser, '/users/me')).statusCode, 200, 'back: the account answers')
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 200, 'back: the session refreshes')

  // An administrator terminating every connection (a failover, a restart): at most a 503, then fine.
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  await admin.connect()
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [url.pathname.slice(1)])
  await admin.end()
  const after = [await app.inject('/health'), await app.inject('/health')].map(response => response.statusCode)
  t.ok(after.every(status => status === 200 || status === 503), `terminated connections: 200 or 503, never 500 (${after})`)
  t.equal(after[1], 200, 'and the next request is fine')
})

/** A provider endpoint at the TCP level: it resets the connection, never answers, or answers garbage. */
async function startBrokenProvider () {
  let mode: 'reset' | 'hang' | 'garbage' | 'not-http' = 'reset'
  const sockets = new Set<net.Socket>()
  let received = 0
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.once('data', () => {
      received++
      if (mode === 'reset') socket.resetAndDestroy()
      else if (mode === 'garbage') socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"access_')
      else if (mode === 'not-http') socket.end('\u0000\u0001SSH-2.0-OpenSSH\r\n\r\n')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    set: (next: typeof mode) => { mode = next },
    received: () => received,
    close: async () => { for (const socket of sockets) socket.destroy(); server.close(); await once(server, 'close') }
  }
}

t.test('a provider that resets, hangs or babbles: the browser lands on the frontend with an error, in bounded time', async t => {
  const provider = await startBrokenProvider()
  t.teardown(() => provider.close())
  const { app } = await buildTestApp(t, { GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret', GITHUB_WEB_URL: provider.origin, GITHUB_API_URL: provider.origin, PROVIDER_TIMEOUT_MS: '500', RATE_LIMIT_ENABLED: 'false' })
  for (const [mode, expected] of [['reset', /^provider_(error|token_error)$/], ['hang', /^provider_timeout$/], ['garbage', /^provider_(error|token_error)$/], ['not-http', /^provider_(error|token_error)$/]] as const) {
    provider.set(mode)
    const browser = newBrowser()
    const login = await browse(app, browser, '/auth/github/login')
    const state = new URL(String(login.headers.location)).searchParams.get('state')
    const started = Date.now()
    const callback = await browse(app, browser, `/auth/github/callback?code=provider-code&state=${state}`)
    const seconds = (Date.now() - started) / 1000
    t.equal(callback.statusCode, 302, `${mode}: a redirect`)
    const location = new URL(String(callback.headers.location))
    t.equal(location.origin + location.pathname, FRONTEND_URL, `${mode}: to the frontend`)
    t.match(new URLSearchParams(location.hash.slice(1)).get('error'), expected, `${mode}: ${location.hash}`)
    t.ok(seconds < 5, `${mode}: within bounds (${seconds.toFixed(1)} s, PROVIDER_TIMEOUT_MS=500)`)
  }
  t.ok(provider.received() >= 4, 'each login reached the provider')
  t.equal((await app.inject('/health')).statusCode, 200, 'the server is fine')
})

t.test('the real process: SIGTERM finishes in-flight work and exits 0; SIGKILL mid-signup leaves no half user; restarts keep users and sessions', async t => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-faults-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const provider = await startBrokenProvider()
  t.teardown(() => provider.close())
  provider.set('hang')
  const database: Record<string, string> = onPostgres ? { DATABASE_URL: (await buildTestApp(t, testEnv)).databaseUrl as string } : { DATA_DIR: dataDir }
  const env = { ...database, DEV_LOGIN: 'true', RATE_LIMIT_ENABLED: 'false', GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret', GITHUB_WEB_URL: provider.origin, GITHUB_API_URL: provider.origin, PROVIDER_TIMEOUT_MS: '2000' }

  let server = await startServer(env)
  t.teardown(() => stopServer(server))
  const keeper = await devSignUp(server, 'keeper')

  // SIGTERM with a login in flight (the provider is slow): no new connections, the login finishes.
  const browser = new Browser(server.origin)
  const login = await request(server, browser, '/auth/github/login')
  const state = new URL(String(login.headers.get('location'))).searchParams.get('state')
  const receivedBefore = provider.received()
  const inFlight = request(server, browser, `/auth/github/callback?code=c&state=${state}`)
  while (provider.received() === receivedBefore) await new Promise(resolve => setTimeout(resolve, 20))
  const signalled = Date.now()
  server.child.kill('SIGTERM')
  let refused = false
  for (let i = 0; i < 50 && !refused; i++) {
    try { await fetch(`${server.origin}/health`) } catch { refused = true }
    if (!refused) await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.ok(refused, 'new connections are refused once SIGTERM arrives')
  const finished = await inFlight
  t.equal(finished.status, 302, 'the in-flight login still gets its answer')
  t.equal(new URLSearchParams(new URL(String(finished.headers.get('location'))).hash.slice(1)).get('error'), 'provider_timeout')
  const { code, signal } = await server.exited
  t.equal(code, 0, `exit 0 (signal ${signal})`)
  t.ok((Date.now() - signalled) / 1000 < 10, `within 10 s (${((Date.now() - signalled) / 1000).toFixed(1)} s)`)

  // Restart on the same data: the user, the session and its refresh token are all there.
  server = await startServer(env, { port: Number(new URL(server.origin).port) })
  const account = await request(server, keeper, '/users/me')
  t.equal(account.status, 200, `after a restart: the account ${account.status === 200 ? '' : await account.text()}`)
  t.equal((await request(server, keeper, '/auth/refresh', { method: 'POST' })).status, 200, 'after a restart: the session refreshes')

  // SIGKILL while 12 first logins finish their signups at once.
  const pending = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
    const tab = new Browser(server.origin)
    const code = await devLoginCode(server, tab, `crash${i}`)
    await request(server, tab, '/auth/exchange', { json: { code } })
    return { tab, id: `crash${i}` }
  }))
  const signups = pending.map(({ tab, id }) => request(server, tab, '/auth/signup', { json: { nickname: id } }).then(response => response.status, () => 'cut'))
  await Promise.race(signups)
  server.child.kill('SIGKILL')
  const outcomes = await Promise.all(signups)
  t.comment(`signups when killed: ${JSON.stringify(outcomes)}`)
  await server.exited

  // The rows, read straight from the database: each user whole, or not there at all.
  const check = async (query: (text: string) => Promise<Array<Record<string, unknown>>>) => {
    const halfUsers = await query(`SELECT u.nickname FROM users u
      WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id) OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)`)
    t.same(halfUsers, [], 'no user without its identity and session')
    const usedWithoutUser = await query(`SELECT p.profile->>'providerUserId' AS id FROM pending_signups p
      WHERE p.used_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.provider = p.profile->>'provider' AND i.provider_user_id = p.profile->>'providerUserId')`)
    t.same(usedWithoutUser, [], 'no signup consumed without its account')
    const created = await query('SELECT u.nickname FROM users u WHERE u.nickname LIKE \'crash%\'')
    t.ok(created.length >= outcomes.filter(outcome => outcome === 201).length, `every answered signup is there (${created.length} of 12 committed)`)
  }
  if (onPostgres) {
    const client = new pg.Client({ connectionString: database.DATABASE_URL })
    await client.connect()
    await check(async text => (await client.query(text)).rows)
    await client.end()
  } else {
    const db = await PGlite.create(path.join(dataDir, 'pglite'))
    await check(async text => (await db.query<Record<string, unknown>>(text)).rows)
    await db.close()
  }

  // And it starts again after the kill, with everyone still signed in.
  server = await startServer(env, { port: Number(new URL(server.origin).port) })
  const again = await request(server, keeper, '/users/me')
  t.equal(again.status, 200, `after a kill: the account ${again.status === 200 ? '' : await again.text()}`)
  t.equal((await request(server, keeper, '/auth/refresh', { method: 'POST' })).status, 200, 'after a kill: the session refreshes')
  server.child.kill('SIGTERM')
  t.equal((await server.exited).code, 0, 'and stops cleanly')
})
