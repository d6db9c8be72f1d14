import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

/** A one-time code for a returning user (registered, then signed out: no session rows left). */
async function issueCode (app: Awaited<ReturnType<typeof buildTestApp>>['app']): Promise<string> {
  if (await app.db.prisma.user.count() === 0) {
    await signIn(app, newBrowser())
    await app.db.prisma.session.deleteMany()
  }
  const { params } = await loginThroughProvider(app, newBrowser(), 'github')
  return params.get('code') as string
}

t.test('a code works once: the second exchange is refused with the same error as an unknown code', async t => {
  const { app } = await buildTestApp(t, github.env)
  const code = await issueCode(app)
  const first = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })
  t.equal(first.statusCode, 200)
  const second = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })
  const unknown = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code: 'A'.repeat(43) } })
  t.equal(second.statusCode, 400)
  t.equal(second.json().code, 'login_code_invalid')
  t.same(second.json(), unknown.json(), 'a used code and an unknown code are indistinguishable')
  t.notOk(second.headers['set-cookie'], 'no cookies for a refused code')
  t.equal(await app.db.prisma.session.count(), 1)
})

t.test('concurrent exchanges of one code: exactly one succeeds', async t => {
  const { app } = await buildTestApp(t, github.env)
  const code = await issueCode(app)
  const responses = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })))
  const statuses = responses.map(response => response.statusCode).sort()
  t.same(statuses, [200, ...Array(19).fill(400)])
  t.equal(await app.db.prisma.session.count(), 1)
  t.equal(await app.db.prisma.refreshToken.count(), 1)
})

t.test('an expired code is refused (clock moved, not slept)', async t => {
  const { app, clock, config } = await buildTestApp(t, github.env)
  t.equal(config.loginCodeTtlSeconds, 60, 'codes live 60 s by default')
  const code = await issueCode(app)
  clock.advance(61)
  const response = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'login_code_invalid')
  t.equal(await app.db.prisma.session.count(), 0)
})

t.test('a code just inside its lifetime still works', async t => {
  const { app, clock } = await buildTestApp(t, github.env)
  const code = await issueCode(app)
  clock.advance(59)
  t.equal((await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })).statusCode, 200)
})

t.test('LOGIN_CODE_TTL_SECONDS sets the lifetime', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, LOGIN_CODE_TTL_SECONDS: '10' })
  const code = await issueCode(app)
  clock.advance(11)
  t.equal((await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })).statusCode, 400)
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
      headers: { 'content-type': c.contentType ?? 'application/json' },
      ...(c.payload === undefined ? {} : { payload: c.payload })
    })
    t.equal(response.statusCode, c.status, `${c.name}: status`)
    t.equal(response.json().code, c.code, `${c.name}: code`)
    t.notMatch(response.body, /at \w+ \(|node_modules/, `${c.name}: no stack trace`)
  }
})

t.test('exchange answers with no-store caching and cookies that hold a working session', async t => {
  const { app } = await buildTestApp(t, github.env)
  const code = await issueCode(app)
  const response = await app.inject({ method: 'POST', url: '/auth/exchange', payload: { code } })
  const cookies = parseSetCookies(response)
  const me = await app.inject({ url: '/auth/me', cookies: { handoff_access: cookies.get('handoff_access')?.value as string } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.id, response.json().user.id)
})
