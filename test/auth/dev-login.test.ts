import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

async function openDevForm (app: Awaited<ReturnType<typeof buildTestApp>>['app'], browser = newBrowser(), query = '') {
  const page = await browse(app, browser, `/auth/dev/login${query}`)
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  return { page, state, browser }
}

const submit = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], browser: ReturnType<typeof newBrowser>, fields: Record<string, string>) =>
  browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } })

t.test('the dev provider signs in any test identity through the same handoff', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  t.match((await app.inject('/auth/providers')).json(), { providers: [{ id: 'dev', name: 'Dev login', loginUrl: '/auth/dev/login' }] })
  const { page, state, browser } = await openDevForm(app, undefined, '?returnTo=%2Fwelcome')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(state, /^[\w-]{43}$/)

  const callback = await submit(app, browser, { state, decision: 'allow', id: 'alice-1', nickname: 'alice', name: 'Alice', email: 'alice@example.com', emailVerified: 'on' })
  t.equal(callback.statusCode, 302)
  const location = new URL(String(callback.headers.location))
  t.equal(location.origin + location.pathname, FRONTEND_URL)
  const params = new URLSearchParams(location.hash.slice(1))
  t.equal(params.get('returnTo'), '/welcome')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(exchange.statusCode, 200)
  t.equal(exchange.json().profile.suggestedNickname, 'alice')
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'alice' } })
  t.equal(signup.statusCode, 201)
  t.equal(signup.json().user.nickname, 'alice')
  const identity = await app.handoff.db.prisma.identity.findFirstOrThrow()
  t.match(identity, { provider: 'dev', providerUserId: 'alice-1', email: 'alice@example.com', emailVerified: false }, 'a typed address is never verified, whatever the form says')
})

t.test('a dev login with a victim\'s email lands in a signup, not in the victim\'s account', async t => {
  const github = await startFakeGitHub()
  t.teardown(() => github.close())
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const victim = (await signIn(app, newBrowser(), 'github')).json().user
  t.match(await app.handoff.db.prisma.user.findUniqueOrThrow({ where: { id: victim.id } }), { email: 'octocat@github.com', emailVerified: true })

  const { page, state, browser } = await openDevForm(app)
  t.notMatch(page.body, /type="checkbox"|name="emailVerified"/, 'the form offers no "verified" checkbox')
  const callback = await submit(app, browser, { state, decision: 'allow', id: 'mallory', email: 'octocat@github.com', emailVerified: 'on' })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  t.equal(exchange.statusCode, 200)
  t.equal(exchange.json().status, 'signup_required', 'a signup, not a session')
  t.equal(exchange.json().user, undefined)
  t.same((await app.handoff.db.prisma.identity.findMany({ where: { userId: victim.id }, select: { provider: true } })).map(row => row.provider), ['github'], 'nothing linked to the victim')
  t.equal((await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'mallory' } })).statusCode, 201, 'the dev identity gets its own account')
  t.equal(await app.handoff.db.prisma.user.count(), 2)
})

t.test('deny, a wrong state and a malformed form all end on the frontend with an error', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const cases: Array<[string, (state: string) => Record<string, string>, string]> = [
    ['deny', state => ({ state, decision: 'deny', id: 'x' }), 'access_denied'],
    ['wrong state', () => ({ state: 'forged', decision: 'allow', id: 'x' }), 'invalid_state'],
    ['bad id', state => ({ state, decision: 'allow', id: 'no spaces allowed' }), 'provider_error']
  ]
  for (const [name, fields, error] of cases) {
    const { state, browser } = await openDevForm(app)
    const callback = await submit(app, browser, fields(state))
    t.equal(callback.statusCode, 302, `${name}: redirect`)
    t.equal(new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('error'), error, `${name}: ${error}`)
  }
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('without DEV_LOGIN the dev provider does not exist', async t => {
  const { app } = await buildTestApp(t)
  t.same((await app.inject('/auth/providers')).json(), { providers: [] })
  t.equal((await app.inject('/auth/dev/login')).statusCode, 404)
})

t.test('the dev provider answers only requests made on this machine, not through a network, proxy or tunnel', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const refused = async (name: string, options: { remoteAddress?: string, headers?: Record<string, string> }) => {
    for (const [method, url] of [['GET', '/auth/dev/login'], ['POST', '/auth/dev/callback']] as const) {
      const response = await app.inject({ method, url, ...options, ...(method === 'POST' ? { payload: 'state=x', headers: { ...options.headers, 'content-type': 'application/x-www-form-urlencoded' } } : {}) })
      t.equal(response.statusCode, 403, `${name}: ${method} ${url} is refused`)
      t.equal(response.json().code, 'dev_login_local_only', `${name}: with a stable code`)
      t.notOk(response.headers['set-cookie'], `${name}: no state cookie`)
    }
  }
  await refused('a client on the network (HOST=0.0.0.0 in a host app)', { remoteAddress: '192.168.1.20' })
  await refused('an IPv4-mapped network address', { remoteAddress: '::ffff:10.0.0.7' })
  await refused('relayed by a local proxy', { headers: { 'x-forwarded-for': '203.0.113.9' } })
  await refused('relayed with Forwarded', { headers: { forwarded: 'for=203.0.113.9' } })
  await refused('a tunnel that keeps its public host name', { headers: { host: 'abc123.ngrok.app' } })
  for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
    t.equal((await app.inject({ url: '/auth/dev/login', remoteAddress, headers: { host: 'localhost:3000' } })).statusCode, 200, `${remoteAddress} on localhost is served`)
  }
})
