import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import type { Browser } from '../helpers/cookies.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/**
 * A one-time code for a returning user (registered, then signed out: no session rows left), and
 * the browser it is bound to.
 */
async function issueCode (app: App): Promise<{ code: string, browser: Browser }> {
  if (await app.handoff.db.prisma.user.count() === 0) {
    await signIn(app, newBrowser())
    await app.handoff.db.prisma.session.deleteMany()
  }
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  return { code: params.get('code') as string, browser }
}

const exchange = (app: App, browser: Browser, payload: unknown) => browse(app, browser, '/auth/exchange', { method: 'POST', payload })

t.test('a code works once: the second exchange is refused with the same error as an unknown code', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  const first = await exchange(app, browser, { code })
  t.equal(first.statusCode, 200)
  const second = await exchange(app, browser, { code })
  const unknown = await exchange(app, browser, { code: 'A'.repeat(43) })
  t.equal(second.statusCode, 400)
  t.equal(second.json().code, 'login_code_invalid')
  t.same(second.json(), unknown.json(), 'a used code and an unknown code are indistinguishable')
  t.notOk(second.headers['set-cookie'], 'no cookies for a refused code')
  t.equal(await app.handoff.db.prisma.session.count(), 1)
})

t.test('concurrent exchanges of one code: exactly one succeeds', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  const responses = await Promise.all(Array.from({ length: 20 }, () => exchange(app, browser, { code })))
  const statuses = responses.map(response => response.statusCode).sort()
  t.same(statuses, [200, ...Array(19).fill(400)])
  t.equal(await app.handoff.db.prisma.session.count(), 1)
  t.equal(await app.handoff.db.prisma.refreshToken.count(), 1)
})

t.test('an expired code is refused (clock moved, not slept)', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal(config.loginCodeTtlSeconds, 60, 'codes live 60 s by default')
  const { code, browser } = await issueCode(app)
  clock.advance(61)
  const response = await exchange(app, browser, { code })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'login_code_invalid')
  t.equal(await app.handoff.db.prisma.session.count(), 0)
})

t.test('a code just inside its lifetime still works', async t => {
  const { app, clock } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  clock.advance(59)
  t.equal((await exchange(app, browser, { code })).statusCode, 200)
})

t.test('LOGIN_CODE_TTL_SECONDS sets the lifetime', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, LOGIN_CODE_TTL_SECONDS: '10' })
  const { code, browser } = await issueCode(app)
  clock.advance(11)
  t.equal((await exchange(app, browser, { code })).statusCode, 400)
})

t.test('malformed exchange requests are 4xx JSON errors', async t => {
  const { app } = await buildTestApp(t, github.env)
  const cases: Array<{ name: string, payload?: string, contentType?: string, status: number, code: string }> = [
    { name: 'no body', status: 400, code: 'invalid_request' },
    { name: 'empty object', payload: '{}', status: 400, code: 'invalid_request' },
    { name: 'code of the wrong type', payload: '{"code":42}', status: 400, code: 'invalid_request' },
    { name: 'code of the wrong shape', payload: '{"code":"short"}', status: 400, code: 'invalid_request' },
    { name: 'extra fields', payload: `{"code":"${'A'.repeat(43)}","admin":true}`, status: 400, code: 'invalid_request' },
    { name: 'malformed JSON', payload: '{"code":', status: 400, code: 'invalid_request' },
    { name: 'form body', payload: 'code=abc', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
    { name: 'huge body', payload: `{"code":"${'A'.repeat(100_000)}"}`, status: 413, code: 'payload_too_large' }
  ]
  for (const c of cases) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/exchange',
      headers: { 'content-type': c.contentType ?? 'application/json', 'x-requested-with': 'fetch' },
      ...(c.payload === undefined ? {} : { payload: c.payload })
    })
    t.equal(response.statusCode, c.status, `${c.name}: status`)
    t.equal(response.json().code, c.code, `${c.name}: code`)
    t.notMatch(response.body, /at \w+ \(|node_modules/, `${c.name}: no stack trace`)
  }
})

t.test('exchange answers with no-store caching and cookies that hold a working session', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  const response = await exchange(app, browser, { code })
  t.equal(response.headers['cache-control'], 'no-store')
  const cookies = parseSetCookies(response)
  const me = await app.inject({ url: '/auth/me', cookies: { handoff_access: cookies.get('handoff_access')?.value as string } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.id, response.json().user.id)
})

t.test('a code is bound to the browser that logged in: another browser cannot exchange it', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  const thief = newBrowser()
  const stolen = await exchange(app, thief, { code })
  t.equal(stolen.statusCode, 400)
  t.equal(stolen.json().code, 'login_code_invalid', 'the same answer as an unknown code')
  const forgedBinding = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code }, headers: { 'x-requested-with': 'x' }, cookies: { handoff_binding: 'B'.repeat(43) } })
  t.equal(forgedBinding.statusCode, 400, 'a made-up binding cookie does not match')
  t.equal((await exchange(app, browser, { code })).statusCode, 200, 'a failed attempt does not burn the code for its owner')
})

t.test('BIND_CODE_TO_BROWSER=false: the code alone is enough', async t => {
  const { app } = await buildTestApp(t, { ...github.env, BIND_CODE_TO_BROWSER: 'false' })
  const { code } = await issueCode(app)
  t.equal((await exchange(app, newBrowser(), { code })).statusCode, 200)
})

t.test('a frontend on another site binds the code with a PKCE-style pair instead', async t => {
  const { app } = await buildTestApp(t, github.env)
  await issueCode(app)
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github', { loginQuery: `?code_challenge=${challenge}&code_challenge_method=S256` })
  const code = params.get('code') as string
  // The frontend's own fetch does not carry our cookies (another site): only the verifier counts.
  const elsewhere = newBrowser()
  t.equal((await exchange(app, elsewhere, { code })).statusCode, 400, 'no verifier: refused')
  t.equal((await exchange(app, elsewhere, { code, code_verifier: randomBytes(32).toString('base64url') })).statusCode, 400, 'wrong verifier: refused')
  t.equal((await exchange(app, elsewhere, { code, code_verifier: verifier })).statusCode, 200, 'the right verifier')
})

t.test('CSRF: exchange needs X-Requested-With and refuses foreign origins', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { code, browser } = await issueCode(app)
  const noHeader = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code }, headers: { 'x-requested-with': undefined } })
  t.equal(noHeader.statusCode, 403)
  t.equal(noHeader.json().code, 'csrf_rejected')
  const foreign = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code }, headers: { origin: 'https://evil.test' } })
  t.equal(foreign.statusCode, 403)
  const foreignReferer = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code }, headers: { referer: 'https://evil.test/page' } })
  t.equal(foreignReferer.statusCode, 403, 'Referer counts when Origin is absent')
  const ours = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code }, headers: { origin: 'http://frontend.test' } })
  t.equal(ours.statusCode, 200, 'the frontend\'s origin is allowed, and the refused attempts did not burn the code')
})
