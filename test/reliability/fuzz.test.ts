import { createHmac } from 'node:crypto'
import http from 'node:http'
import fc from 'fast-check'
import t from 'tap'
import { signingKey } from '../../src/sessions/signing-keys.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, PUBLIC_URL, TEST_JWT_SECRET } from '../helpers/build-app.js'
import { jsonErrorCodes } from '../helpers/error-codes.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'
import { fuzzValue, headerSafe, nastyString, responseValidators, routesOf, send, validValue, type OpenApiDocument, type RawResponse, type Route } from './openapi-fuzz.js'

// Hostile input against every documented route, through the real HTTP server. The budget is time:
// FUZZ_SECONDS (default 20); FUZZ_SEED replays a failing run (the seed is printed on failure).

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 20)
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED)
const BODY_LIMIT = 16 * 1024
// Every code src/errors.ts can answer with, plus the ones given to Fastify's own 4xx.
const ERROR_CODES = new Set(jsonErrorCodes())

const github = await startFakeGitHub()
t.teardown(() => github.close())
const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true', RATE_LIMIT_ENABLED: 'false' })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
t.teardown(() => agent.destroy())

const document = JSON.parse((await send(origin, { method: 'GET', path: '/docs/json' })).body) as OpenApiDocument
const routes = routesOf(document)
const validators = responseValidators(document)

// Real material for the cookies, so the fuzz reaches past "not signed in": a signed-in browser,
// a pending code bound to another browser, a signup cookie, a state cookie.
const signedIn = newBrowser()
await signIn(app, signedIn)
const pending = newBrowser()
await loginThroughProvider(app, pending, 'github')
const signingUp = newBrowser()
// Another GitHub account, with no email to link by: a first login.
github.user = { ...github.user, id: 42, login: 'hubot' }
github.emails = []
const signupCode = (await loginThroughProvider(app, signingUp, 'github')).params.get('code') as string
await browse(app, signingUp, '/auth/exchange', { method: 'POST', payload: { code: signupCode } })
const starting = newBrowser()
await browse(app, starting, '/auth/github/login')
const real = {
  handoff_access: await signedIn.cookie('handoff_access') as string,
  handoff_refresh: await signedIn.cookie('handoff_refresh', '/auth') as string,
  handoff_signup: await signingUp.cookie('handoff_signup', '/auth') as string,
  handoff_binding: await pending.cookie('handoff_binding', '/auth') as string,
  handoff_github_state: await starting.cookie('handoff_github_state', '/auth/github/callback') as string
}
for (const [name, value] of Object.entries(real)) if (value === undefined) throw new Error(`setup: no ${name} cookie`)

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const hs256 = (header: object, claims: object, secret: string) => {
  const unsigned = `${b64(header)}.${b64(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}
const kid = signingKey(TEST_JWT_SECRET).kid
const now = Math.floor(Date.now() / 1000)
const claimsArb = fc.record({
  sub: fc.oneof(fc.uuid(), nastyString(), fc.integer()),
  sid: fc.oneof(fc.uuid(), nastyString(), fc.constant(null)),
  nickname: fc.oneof(nastyString(), fc.integer()),
  picture: fc.oneof(nastyString(), fc.constant(null)),
  iss: fc.constantFrom(PUBLIC_URL, 'http://evil.test'),
  aud: fc.constantFrom('handoff', 'other', ['handoff']),
  exp: fc.constantFrom(now + 600, now - 600, 'soon', 1e20),
  iat: fc.constantFrom(now, now + 10_000)
}, { requiredKeys: [] })

/** Forged, tampered, truncated, signed with a wrong key, and (defence in depth) validly signed with odd claims. */
const jwtArb = fc.oneof(
  fc.tuple(claimsArb, fc.string({ maxLength: 40 })).map(([claims, secret]) => hs256({ alg: 'HS256', typ: 'JWT', kid }, claims, secret.padEnd(32, 'x'))),
  claimsArb.map(claims => hs256({ alg: 'HS256', typ: 'JWT', kid }, claims, TEST_JWT_SECRET)),
  claimsArb.map(claims => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`),
  fc.tuple(fc.jsonValue(), fc.jsonValue()).map(([header, claims]) => `${b64(header)}.${b64(claims)}.${b64('sig')}`),
  fc.nat({ max: real.handoff_access.length }).map(cut => real.handoff_access.slice(0, cut)),
  fc.tuple(fc.nat({ max: real.handoff_access.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([at, c]) => real.handoff_access.slice(0, at) + c + real.handoff_access.slice(at + 1)),
  fc.constantFrom(`${b64('{"alg":"HS256","kid":{"__proto__":1}}')}.e30.x`, `${b64('{"kid":"constructor"}')}.e30.x`, '...', '.', 'e30', `${b64('not json')}.e30.x`)
)

const cookieValue = (name: keyof typeof real) => fc.oneof(
  { weight: 3, arbitrary: fc.constant(real[name]) },
  { weight: 3, arbitrary: name === 'handoff_access' ? jwtArb : fc.nat({ max: real[name].length }).map(cut => real[name].slice(0, cut)) },
  { weight: 2, arbitrary: nastyString() },
  { weight: 1, arbitrary: fc.constantFrom(real.handoff_access, real.handoff_refresh, real.handoff_signup, 'x'.repeat(5000)) }
)
const cookieArb = fc.tuple(
  ...(Object.keys(real) as Array<keyof typeof real>).map(name => fc.option(cookieValue(name).map(value => `${name}=${value}`), { freq: 2 })),
  fc.option(fc.tuple(nastyString(), nastyString()).map(([name, value]) => `${name}=${value}`)),
  fc.boolean()
).map(parts => {
  const repeat = parts.pop() as boolean
  const pairs = (parts as Array<string | null>).filter((pair): pair is string => pair !== null)
  return headerSafe((repeat ? [...pairs, ...pairs] : pairs).join('; '))
})

const pathValue = (route: Route, name: string) => {
  if (name === 'provider') return fc.oneof(fc.constantFrom('github', 'dev', 'GitHub', 'google', '..', '%2e%2e'), nastyString())
  if (name === 'id') return fc.oneof(fc.uuid(), nastyString())
  const parameter = route.operation.parameters?.find(p => p.in === 'path' && p.name === name)
  return parameter === undefined ? nastyString() : validValue(parameter.schema, document).map(String)
}

/** A query string from the documented parameters: valid, wrong, repeated, or extra. */
const queryArb = (route: Route) => {
  const parameters = (route.operation.parameters ?? []).filter(p => p.in === 'query')
  const pairs = parameters.map(p => fc.option(fc.tuple(fc.constant(p.name), fc.oneof(validValue(p.schema, document).map(String), nastyString()), fc.nat({ max: 2 })), { freq: 2 }))
  return fc.tuple(fc.tuple(...pairs), fc.option(fc.tuple(nastyString(), nastyString())), fc.boolean()).map(([chosen, extra, raw]) => {
    const list: Array<[string, string]> = []
    for (const pair of chosen) if (pair !== null) for (let i = 0; i <= pair[2]; i++) list.push([pair[0], pair[1]])
    if (extra !== null) list.push(extra)
    if (list.length === 0) return ''
    // Also raw, unencoded bytes: a hand-written URL, not a well-behaved client.
    return raw ? '?' + list.map(([k, v]) => `${k}=${v}`).join('&').replace(/[\s#]/g, '') : '?' + new URLSearchParams(list as Array<[string, string]>).toString()
  })
}

/** A body for the route: per its schema (sometimes broken), malformed, huge, or typed wrongly. */
interface Payload { type?: string, body?: string }
const bodyArb = (route: Route): fc.Arbitrary<Payload> => {
  const content = route.operation.requestBody?.content ?? {}
  const [mediaType, media] = Object.entries(content)[0] ?? ['application/json', { schema: { type: 'object' } }]
  const encode = (value: unknown) => mediaType === 'application/x-www-form-urlencoded' && value !== null && typeof value === 'object'
    ? new URLSearchParams(Object.entries(value).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString()
    : JSON.stringify(value) ?? ''
  const typeArb = fc.oneof(
    { weight: 6, arbitrary: fc.constant(mediaType) },
    { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json', '', 'application/jsonx', ';;;', 'APPLICATION/JSON') }
  )
  const near = fc.integer({ min: BODY_LIMIT - 64, max: BODY_LIMIT + 64 })
  const textArb = fc.oneof(
    { weight: 6, arbitrary: fuzzValue(media.schema, document).map(encode) },
    { weight: 2, arbitrary: fc.constantFrom('{', '{"code":', '{"code": "a",}', 'null', '[]', '"str"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\ufeff{}', '{"code":"\\ud800"}', 'nickname=a&nickname=b', '%', '{"nickname":' + '['.repeat(5000)) },
    { weight: 1, arbitrary: nastyString() },
    // Huge strings, around the 16 KiB limit on either side.
    { weight: 1, arbitrary: near.map(size => JSON.stringify({ code: 'A'.repeat(Math.max(0, size - 11)) })) },
    { weight: 1, arbitrary: near.map(size => JSON.stringify({ nickname: '가'.repeat(Math.max(0, Math.floor((size - 16) / 3))) })) }
  )
  return fc.option(fc.record({ type: typeArb, body: textArb }), { freq: 8 }).map(value => value ?? {})
}

const requestArb = fc.constantFrom(...routes).chain(route => fc.record({
  route: fc.constant(route),
  path: fc.tuple(...[...route.path.matchAll(/\{(\w+)\}/g)].map(match => pathValue(route, match[1]).map(value => [match[1], value] as const)))
    .map(values => values.reduce((path, [name, value]) => path.replace(`{${name}}`, encodeURIComponent(Buffer.from(value).toString())) /* lone surrogates become U+FFFD */, route.path)),
  query: queryArb(route),
  cookie: fc.option(cookieArb, { freq: 5 }),
  // Mostly with the CSRF header, so requests reach the handlers.
  csrf: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  origin: fc.option(fc.constantFrom(PUBLIC_URL, 'http://frontend.test', 'https://evil.test', 'null', 'not a url'), { freq: 4 }),
  method: fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'POST', 'GET', 'OPTIONS', 'HEAD') }),
  payload: route.method === 'GET' ? fc.constant<Payload>({}) : bodyArb(route)
}))

// Statuses any route may answer besides its documented ones: bad input, CSRF (state-changing
// routes), an unknown or over-long (414) path parameter or method, body limits and content types, rate limits, and
// headers over Node's 16 KiB (431).
const genericStatuses = (method: string): Set<number> => {
  const statuses = new Set([400, 404, 414, 429, 431])
  if (method !== 'GET' && method !== 'HEAD') for (const status of [403, 413, 415]) statuses.add(status)
  if (method === 'OPTIONS') statuses.add(204)
  return statuses
}

let requests = 0
const statusCounts = new Map<number, number>()

/** What a user sees must be documented: a known status, a JSON body matching the schema, no 5xx. */
function check (generatedFrom: Route, path: string, method: string, response: RawResponse): string | null {
  // Judge by the route that answers: /auth/{provider}/login with provider "dev" is the dev
  // provider's own route, and DELETE /users/me sent as GET is GET /users/me.
  const answering = method === 'HEAD' ? 'GET' : method
  const route = routes.find(candidate => candidate.path === path && candidate.method === answering) ??
    routes.find(candidate => candidate.path === path && candidate.method === generatedFrom.method) ?? generatedFrom
  requests++
  statusCounts.set(response.status, (statusCounts.get(response.status) ?? 0) + 1)
  if (response.status >= 500) return `${response.status}: ${response.body.slice(0, 300)}`
  const sameRoute = method === route.method || (method === 'HEAD' && route.method === 'GET')
  const validate = sameRoute ? validators.forStatus(route, response.status) : undefined
  if (validate === undefined && !genericStatuses(method).has(response.status)) return `undocumented status ${response.status}: ${response.body.slice(0, 300)}`
  if (response.status >= 300 && response.status < 400) {
    const location = String(response.headers.location ?? '')
    if (!location.startsWith('http://frontend.test/') && !location.startsWith(github.webUrl) && !location.startsWith('/')) return `redirect to ${location}`
    return null
  }
  // A CORS preflight is answered by @fastify/cors for the browser, which never reads its body.
  if (response.body === '' || method === 'HEAD' || method === 'OPTIONS') return null
  const type = String(response.headers['content-type']).split(';')[0]
  if (type !== 'application/json') {
    const documented = sameRoute ? Object.keys(route.operation.responses[String(response.status)]?.content ?? {}) : []
    return documented.includes(type) ? null : `undocumented ${type} reply with ${response.status}`
  }
  const json = JSON.parse(response.body)
  const validator = validate ?? validators.error
  if (validator != null && !validator(json)) return `${response.status} body does not match its schema: ${JSON.stringify(validator.errors)} ${response.body.slice(0, 300)}`
  if (response.status >= 400 && !ERROR_CODES.has(json.code)) return `unknown error code ${json.code}`
  if (response.status >= 400 && json.statusCode !== response.status) return `statusCode ${json.statusCode} in a ${response.status}`
  return null
}

t.test(`every documented route survives hostile input (seed ${SEED}, ${SECONDS} s)`, async t => {
  t.ok(routes.length >= 15, `the document lists the routes (${routes.length})`)
  let failure: string | null = null
  const started = Date.now()
  await fc.assert(fc.asyncProperty(fc.array(requestArb, { minLength: 8, maxLength: 8 }), async batch => {
    const results = await Promise.all(batch.map(async request => {
      const headers: Record<string, string> = {}
      if (request.cookie !== null) headers.cookie = request.cookie
      if (request.csrf) headers['x-requested-with'] = 'fetch'
      if (request.origin !== null) headers.origin = request.origin
      if (request.payload.type !== undefined) headers['content-type'] = request.payload.type
      let problem: string | null
      try {
        problem = check(request.route, request.path, request.method, await send(origin, { method: request.method, path: request.path + request.query, headers, body: request.payload.body }, agent))
      } catch (error) {
        problem = `threw ${String(error)}`
      }
      return problem === null ? null : `${problem} ← ${request.method} ${request.path.slice(0, 200)}${request.query.slice(0, 200)} (cookie ${headers.cookie?.slice(0, 300)}, body ${request.payload.body?.slice(0, 300)})`
    }))
    failure = results.find(result => result !== null) ?? null
    return failure === null
  }), { seed: SEED, numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true })
    .catch((error: Error) => { t.fail(`${failure ?? error.message.split('\n')[0]} (FUZZ_SEED=${SEED}; ${error.message.split('\n')[0]})`) })
  const elapsed = (Date.now() - started) / 1000
  t.comment(`fuzz: ${requests} requests in ${elapsed.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort()))}`)
  t.ok(requests >= 500, `enough requests to mean something (${requests})`)
  t.ok(statusCounts.has(200) || statusCounts.has(201), 'some requests went all the way through')
  const health = await send(origin, { method: 'GET', path: '/health' })
  t.equal(health.status, 200, 'the server is still up and its database answers')
})

t.test('body limits: 16 KiB for JSON, 4 KiB for the dev login form, refused with 413 payload_too_large', async t => {
  const json = (size: number) => JSON.stringify({ code: 'A'.repeat(size - 11) })
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    send(origin, { method: 'POST', path, headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch', ...headers }, body })
  t.equal(Buffer.byteLength(json(BODY_LIMIT)), BODY_LIMIT)

  const atLimit = await post('/auth/exchange', json(BODY_LIMIT))
  t.equal(atLimit.status, 400, 'exactly 16 KiB is read (and refused by the schema)')
  t.equal(JSON.parse(atLimit.body).code, 'invalid_request')

  for (const [name, response] of [
    ['one byte over', await post('/auth/exchange', json(BODY_LIMIT + 1))],
    ['multi-byte characters over', await post('/auth/signup', JSON.stringify({ nickname: '가'.repeat(6000) }))],
    ['chunked, no Content-Length', await post('/auth/exchange', json(BODY_LIMIT * 4), { 'transfer-encoding': 'chunked' })],
    // Refused from the header alone, before a byte of the body: the answer must still arrive. A
    // request that fails (a reset, a closed socket) fails this test; it is not a 413.
    ['a Content-Length of 1 GB announced', await send(origin, { method: 'PATCH', path: '/users/me', headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch', 'content-length': String(2 ** 30) } })]
  ] as const) {
    t.equal(response.status, 413, `${name}: 413`)
    t.equal(JSON.parse(response.body).code, 'payload_too_large', `${name}: payload_too_large`)
  }

  const form = (size: number) => `state=x&decision=allow&id=a&name=${'n'.repeat(size - 33)}`
  t.equal(form(4096).length, 4096)
  const formPost = (body: string) => send(origin, { method: 'POST', path: '/auth/dev/callback', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  t.not((await formPost(form(4096))).status, 413, 'the dev form reads 4 KiB')
  const overForm = await formPost(form(4097))
  t.equal(overForm.status, 413, 'the dev form refuses 4 KiB + 1')
  t.equal(JSON.parse(overForm.body).code, 'payload_too_large')
})

t.test('requests refused before routing still answer the documented error shape', async t => {
  const cases: Array<[string, { path: string, headers?: Record<string, string> }, number]> = [
    ['headers over 16 KiB', { path: '/auth/me', headers: { cookie: `handoff_access=${'x'.repeat(20_000)}` } }, 431],
    ['raw bytes in the URL', { path: '/auth/nickname/availability?nickname=\u00ff\u00fe' }, 400],
    ['a broken percent-encoding in the path', { path: '/auth/%zz/login' }, 400],
    ['a path parameter over 100 characters', { path: `/auth/${'g'.repeat(101)}/login` }, 414]
  ]
  for (const [name, request, status] of cases) {
    const response = await send(origin, { method: 'GET', ...request })
    t.equal(response.status, status, `${name}: ${status}`)
    t.ok(validators.error(JSON.parse(response.body)), `${name}: { statusCode, code, error, message }`)
    t.equal(JSON.parse(response.body).code, 'invalid_request', `${name}: invalid_request`)
  }
  t.equal((await send(origin, { method: 'GET', path: '/health' })).status, 200, 'the server is still up')
})
