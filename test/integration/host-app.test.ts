import fastifyCookie from '@fastify/cookie'
import fastifyCors from '@fastify/cors'
import fastifyEnv from '@fastify/env'
import createError from '@fastify/error'
import formbody from '@fastify/formbody'
import fastifyJwt from '@fastify/jwt'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import t from 'tap'
import handoff, { type HandoffOptions } from '../../src/index.js'
import { startFakeGitHub } from '../fakes/github.js'
import { FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { freshTestDatabase } from '../helpers/database.js'
import { browse, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const settings = { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent', ...github.env }
const frontend = new URL(FRONTEND_URL).origin
const Teapot = createError('TEAPOT', 'I am a teapot', 418)
type Tap = { teardown(fn: () => unknown): void }

/**
 * The app of the issue: @fastify/env (which decorates `config`), @fastify/cors, @fastify/swagger
 * with its UI, its own error handler, not-found handler and /health, then handoff.
 */
async function typicalHostApp (t: Tap) {
  const app = Fastify()
  await app.register(fastifyEnv, { schema: { type: 'object', properties: { GREETING: { type: 'string', default: 'hello' } } }, data: {} })
  await app.register(fastifyCors, { origin: frontend, credentials: true, allowedHeaders: ['Content-Type', 'X-Requested-With'] })
  await app.register(fastifySwagger, { openapi: { info: { title: 'the host', version: '1.0.0' } } })
  await app.register(fastifySwaggerUi, { routePrefix: '/documentation' })
  app.setErrorHandler((error: { statusCode?: number, message: string }, _request, reply) => reply.code(error.statusCode ?? 500).send({ ok: false, reason: error.message }))
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ ok: false, reason: `nothing at ${request.url}` }))
  app.get('/health', async () => ({ ok: true, app: 'host' }))
  app.get('/teapot', async () => { throw new Teapot() })

  await app.register(handoff, { settings, database: (await freshTestDatabase()).target })
  app.get('/api/me', { preHandler: app.authenticate }, async request => ({ id: request.user.id }))
  await app.ready()
  t.teardown(() => app.close())
  return app
}

/**
 * A plain Fastify app, handoff with `options`, then `setup` (the host's handlers), then one untagged
 * route of the host's: Fastify gives a route the error handler and docs of what came before it.
 */
async function plainHostApp (t: Tap, options: HandoffOptions = {}, setup = (_app: FastifyInstance) => {}) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(handoff, { settings, database: (await freshTestDatabase()).target, ...options })
  setup(app)
  app.get('/teapot', async () => { throw new Teapot() })
  await app.ready()
  return app
}

const exchangeBadCode = (app: FastifyInstance, url = '/auth/exchange') =>
  app.inject({ method: 'POST', url, headers: { 'x-requested-with': 'fetch' }, payload: { code: 'A'.repeat(43) } })

t.test('a typical host app: its plugins, handlers and /health stay its own, and handoff works beside them', async t => {
  const app = await typicalHostApp(t)

  t.same(app.getDecorator<{ GREETING: string }>('config'), { GREETING: 'hello' }, '@fastify/env still owns `config`')
  t.equal(app.handoff.config.publicUrl, PUBLIC_URL, 'handoff\'s settings are under app.handoff')

  const health = await app.inject('/health')
  t.same([health.statusCode, health.json()], [200, { ok: true, app: 'host' }], 'the host\'s /health, not ours')
  const teapot = await app.inject('/teapot')
  t.same([teapot.statusCode, teapot.json()], [418, { ok: false, reason: 'I am a teapot' }], 'a host route\'s error goes through the host\'s handler')
  const unknown = await app.inject('/nope')
  t.same([unknown.statusCode, unknown.json()], [404, { ok: false, reason: 'nothing at /nope' }], 'an unknown host path gets the host\'s 404')
  const guarded = await app.inject('/api/me')
  t.same([guarded.statusCode, guarded.json()], [401, { ok: false, reason: 'Sign in first: the access token is missing, expired or invalid.' }], 'app.authenticate on a host route: the host\'s handler answers')

  const providers = await app.inject('/auth/providers')
  t.equal(providers.statusCode, 200)
  t.same(providers.json().providers, [{ id: 'github', name: 'GitHub', loginUrl: '/auth/github/login' }])
  const exchange = await exchangeBadCode(app)
  t.equal(exchange.statusCode, 400)
  t.same(exchange.json(), { statusCode: 400, code: 'login_code_invalid', error: 'Bad Request', message: exchange.json().message }, 'our routes keep our error format')
  const ours = await app.inject('/auth/nope')
  t.same([ours.statusCode, ours.json().code], [404, 'not_found'], 'an unknown /auth path is ours')

  const preflight = await app.inject({ method: 'OPTIONS', url: '/auth/exchange', headers: { origin: frontend, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-requested-with' } })
  t.equal(preflight.headers['access-control-allow-origin'], frontend, 'the host\'s @fastify/cors answers for our routes')
  t.equal(preflight.headers['access-control-allow-credentials'], 'true')

  const document = (await app.inject('/documentation/json')).json()
  t.equal(document.info.title, 'the host', 'one document: the host\'s')
  for (const path of ['/teapot', '/health', '/api/me', '/auth/providers', '/auth/exchange']) t.ok(document.paths[path], `${path} is in the host's document`)
  t.equal((await app.inject('/docs/json')).statusCode, 404, 'handoff serves no second document')

  const browser = newBrowser()
  const signup = await signIn(app, browser)
  t.equal(signup.statusCode, 201, 'a whole login through the host app')
  t.same((await browse(app, browser, '/api/me')).json(), { id: signup.json().user.id }, 'and the host\'s guarded route sees the user')
})

t.test('prefix: every route, callback URL, cookie path and login URL under it', async t => {
  const app = await plainHostApp(t, { prefix: '/api' })

  t.same((await app.inject('/api/auth/providers')).json().providers, [{ id: 'github', name: 'GitHub', loginUrl: '/api/auth/github/login' }])
  t.equal((await app.inject('/auth/providers')).statusCode, 404, 'nothing left at the root')
  t.same((await app.inject('/api/health')).json(), { status: 'ok', database: 'ok' })
  t.equal((await app.inject('/api/.well-known/jwks.json')).statusCode, 200)
  const exchange = await exchangeBadCode(app, '/api/auth/exchange')
  t.same([exchange.statusCode, exchange.json().code], [400, 'login_code_invalid'])

  const browser = newBrowser()
  const start = await browse(app, browser, '/api/auth/github/login')
  t.equal(start.statusCode, 302)
  const authorize = new URL(String(start.headers.location))
  t.equal(authorize.searchParams.get('redirect_uri'), `${PUBLIC_URL}/api/auth/github/callback`, 'the provider calls back under the prefix')
  t.equal(parseSetCookies(start).get('handoff_github_state')?.attributes.get('path'), '/api/auth/github/callback', 'login cookies go to that callback only')
  const callback = new URL(String((await fetch(authorize, { redirect: 'manual' })).headers.get('location')))
  const landed = await browse(app, browser, callback.pathname + callback.search)
  const code = new URLSearchParams(new URL(String(landed.headers.location)).hash.slice(1)).get('code')
  t.ok(code, `the callback handed a code to the frontend (${landed.statusCode})`)

  const first = await browse(app, browser, '/api/auth/exchange', { method: 'POST', payload: { code } })
  t.equal(first.json().status, 'signup_required')
  const signup = await browse(app, browser, '/api/auth/signup', { method: 'POST', payload: { nickname: first.json().profile.suggestedNickname } })
  t.equal(signup.statusCode, 201, 'the signup cookie reached /api/auth/signup')
  t.equal(parseSetCookies(signup).get('handoff_refresh')?.attributes.get('path'), '/api/auth')
  t.equal((await browse(app, browser, '/api/auth/me')).statusCode, 200)
  t.equal((await browse(app, browser, '/api/auth/refresh', { method: 'POST' })).statusCode, 200, 'the refresh cookie is sent to /api/auth/refresh')

  const document = (await app.inject('/api/docs/json')).json()
  t.same(document.servers, [{ url: PUBLIC_URL }])
  t.ok(document.paths['/api/auth/providers'], 'our paths carry the prefix')
  t.ok(document.paths['/teapot'], 'the host\'s untagged route is listed, not hidden')
})

t.test('errorHandler global (the default) with a host that has no handlers: our format everywhere', async t => {
  const app = await plainHostApp(t)
  const teapot = await app.inject('/teapot')
  t.same(teapot.json(), { statusCode: 418, code: 'teapot', error: 'I\'m a Teapot', message: 'I am a teapot' })
  t.notOk(teapot.headers['content-language'], 'its own code keeps its own words: handoff claims no language for them')
  const unknown = await app.inject('/nope')
  t.same(unknown.json(), { statusCode: 404, code: 'not_found', error: 'Not Found', message: 'Route GET /nope not found' })
})

t.test('errorHandler: scoped leaves the host\'s routes and unknown paths alone; the host sets its handlers afterwards', async t => {
  const app = await plainHostApp(t, { errorHandler: 'scoped' }, app => {
    app.setErrorHandler((error: { statusCode?: number, message: string }, _request, reply) => reply.code(error.statusCode ?? 500).send({ ok: false, reason: error.message }))
    app.setNotFoundHandler((request, reply) => reply.code(404).send({ ok: false, reason: `nothing at ${request.url}` }))
  })
  t.same((await app.inject('/teapot')).json(), { ok: false, reason: 'I am a teapot' })
  t.same((await app.inject('/nope')).json(), { ok: false, reason: 'nothing at /nope' })
  const exchange = await exchangeBadCode(app)
  t.same(exchange.json(), { statusCode: 400, code: 'login_code_invalid', error: 'Bad Request', message: exchange.json().message }, 'our routes keep our format')
  t.same((await app.inject('/users/nope')).json().code, 'not_found')
})

t.test('cors, openapi and health: false turn ours off', async t => {
  const app = await plainHostApp(t, { cors: false, openapi: false, health: false })
  t.equal((await app.inject('/docs/json')).statusCode, 404)
  t.equal((await app.inject('/health')).statusCode, 404)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/auth/exchange', headers: { origin: frontend, 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers['access-control-allow-origin'], undefined, 'no CORS from handoff')
  t.equal((await app.inject('/auth/providers')).statusCode, 200, 'the rest is there')
  const csrf = await app.inject({ method: 'POST', url: '/auth/logout' })
  t.equal(csrf.json().code, 'csrf_rejected', 'the CSRF check does not depend on CORS')
})

t.test('a host that registered @fastify/cookie, @fastify/rate-limit and @fastify/formbody first: reused, the limits still answer rate_limited', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyCookie)
  await app.register(fastifyRateLimit, { global: false })
  await app.register(formbody)
  await app.register(handoff, { settings: { ...settings, DEV_LOGIN: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '3' }, database: (await freshTestDatabase()).target })
  await app.ready()
  await signInWithDev(app, newBrowser(), 'guest')
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await app.inject('/auth/dev/login')).statusCode)
  t.same(statuses, [200, 200, 429], 'the sign-in opened the login page once: two more, then the limit')
  t.equal((await app.inject('/auth/dev/login')).json().code, 'rate_limited')
})

for (const order of ['before', 'after'] as const) {
  t.test(`a host that signs its own tokens with @fastify/jwt, registered ${order} handoff: both work`, async t => {
    const app = Fastify()
    t.teardown(() => app.close())
    const hostJwt = async () => { await app.register(fastifyJwt, { secret: 'the host app\'s own secret, not handoff\'s' }) }
    if (order === 'before') await hostJwt()
    await app.register(handoff, { settings: { ...settings, DEV_LOGIN: 'true' }, database: (await freshTestDatabase()).target })
    if (order === 'after') await hostJwt()
    app.get('/api/host-token', async () => ({ token: app.jwt.sign({ scope: 'host' }) }))
    app.get('/api/host-verify', async request => ({ scope: (await request.jwtVerify<{ scope: string }>()).scope }))
    app.get('/api/me', { preHandler: app.authenticate }, async request => ({ nickname: request.user.nickname }))
    await app.ready()

    const { token } = (await app.inject('/api/host-token')).json()
    const verified = await app.inject({ url: '/api/host-verify', headers: { authorization: `Bearer ${token}` } })
    t.same(verified.json(), { scope: 'host' }, 'the host\'s own @fastify/jwt signs and verifies')
    const browser = newBrowser()
    await signInWithDev(app, browser, 'jwt_host')
    t.same((await browse(app, browser, '/api/me')).json(), { nickname: 'jwt_host' }, 'handoff\'s access cookie works on the host\'s guarded route')
    t.equal((await browse(app, browser, '/auth/me')).statusCode, 200)
    const forged = await app.inject({ url: '/auth/me', cookies: { handoff_access: token } })
    t.equal(forged.statusCode, 401, 'a token of the host\'s key is no handoff access token')
  })
}

t.test('a host with its own helmet keeps its headers on its routes; ours stay on ours', async t => {
  // Stands in for @fastify/helmet (not a dependency): found by its plugin name, as the real one would be.
  const helmet = fp(async app => { app.addHook('onRequest', async (_request, reply) => { reply.header('content-security-policy', "default-src 'none'") }) }, { name: '@fastify/helmet' })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(helmet)
  await app.register(handoff, { settings, database: (await freshTestDatabase()).target })
  app.get('/hello', async () => ({ hello: 'world' }))
  await app.ready()
  t.equal((await app.inject('/hello')).headers['content-security-policy'], "default-src 'none'", 'the host\'s policy on its route')
  const ours = await app.inject('/auth/providers')
  t.match(ours.headers['content-security-policy'], /form-action 'self'/, 'ours on our routes')
  t.equal(ours.headers['cache-control'], 'no-store')
  t.match((await app.inject('/auth/nope')).headers['content-security-policy'], /form-action 'self'/, 'and on our 404s')
})

t.test('handoff inside a host plugin that has a prefix: that prefix counts too', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  const database = (await freshTestDatabase()).target
  await app.register(async api => { await api.register(handoff, { prefix: '/accounts', settings, database }) }, { prefix: '/v1' })
  await app.ready()
  const providers = await app.inject('/v1/accounts/auth/providers')
  t.same(providers.json().providers[0].loginUrl, '/v1/accounts/auth/github/login')
  const start = await app.inject('/v1/accounts/auth/github/login')
  t.equal(new URL(String(start.headers.location)).searchParams.get('redirect_uri'), `${PUBLIC_URL}/v1/accounts/auth/github/callback`)
  t.equal((await app.inject('/v1/accounts/docs/json')).statusCode, 200, 'the docs under both prefixes, once each')
  t.equal((await app.inject('/v1/v1/accounts/docs/json')).statusCode, 404)
})

t.test('a prefix that is not a path is refused at registration', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(handoff, { prefix: '/api?x=1', settings }) }, { name: 'ConfigError', message: /prefix: must be a path like '\/api'/ })
  for (const prefix of ['/v1/../api', '/./api', 42]) {
    const other = Fastify()
    t.teardown(() => other.close())
    await t.rejects(async () => { await other.register(handoff, { prefix: prefix as string, settings }) }, { name: 'ConfigError', message: /Invalid option prefix/ }, `prefix ${JSON.stringify(prefix)}`)
  }
})

t.test('options of the wrong type are refused at registration, naming the option', async t => {
  for (const [option, value] of [['errorHandler', 'scope'], ['cors', 'false'], ['providers', {}]] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(handoff, { [option]: value, settings } as HandoffOptions) }, { name: 'ConfigError', message: new RegExp(`Invalid option ${option}`) })
  }
})
