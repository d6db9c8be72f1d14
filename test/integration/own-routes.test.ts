import createError from '@fastify/error'
import Fastify from 'fastify'
import t from 'tap'
import { buildNotesApp } from '../../examples/own-routes/app.js'
import handoff, { type HandoffHooks, type LoginEvent } from '../../src/index.js'
import { startFakeGitHub } from '../fakes/github.js'
import { FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { freshTestDatabase } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const settings = { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent', ...github.env }

/** handoff registered in a plain Fastify app, as a user's own server would. */
async function hostApp (t: Tap, hooks: HandoffHooks = {}) {
  const app = Fastify()
  await app.register(handoff, { settings, hooks, database: (await freshTestDatabase()).target })
  app.get('/api/whoami', { preHandler: app.authenticate }, async request => ({ id: request.user.id, nickname: request.user.nickname, sessionId: request.user.sessionId }))
  app.get('/api/strict', { preHandler: app.authenticateSession }, async request => ({ id: request.user.id }))
  t.teardown(() => app.close())
  return app
}
type Tap = { teardown(fn: () => unknown): void }

t.test('the own-routes example: 401 with our error code, then the signed-in user\'s own rows', async t => {
  const app = await buildNotesApp({ settings: { ...settings }, database: (await freshTestDatabase()).target })
  t.teardown(() => app.close())

  const anonymous = await app.inject('/api/notes')
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), { statusCode: 401, code: 'not_authenticated', error: 'Unauthorized', message: anonymous.json().message })

  const browser = newBrowser()
  const signup = await signIn(app, browser)
  const notes = await browse(app, browser, '/api/notes')
  t.equal(notes.statusCode, 200)
  t.same(notes.json(), { owner: signup.json().user.nickname, notes: [`Welcome, ${signup.json().user.nickname}!`] }, 'the row onUserCreated wrote with the account')
  t.equal((await browse(app, browser, '/health')).statusCode, 200, 'handoff\'s own routes are there too')
})

t.test('authenticate and authenticateSession both refuse a revoked session at once', async t => {
  const app = await hostApp(t)
  const browser = newBrowser()
  const signup = await signIn(app, browser)
  const whoami = await browse(app, browser, '/api/whoami')
  t.same(whoami.json(), { id: signup.json().user.id, nickname: signup.json().user.nickname, sessionId: whoami.json().sessionId })
  t.match(whoami.json().sessionId, /^[0-9a-f-]{36}$/)

  const access = await browser.cookie('handoff_access') as string
  await browse(app, browser, '/auth/logout', { method: 'POST' })
  const whoamiAfter = await app.inject({ url: '/api/whoami', cookies: { handoff_access: access } })
  t.equal(whoamiAfter.statusCode, 401, 'authenticate: the revoked session is refused without a query (revoked sessions in memory)')
  t.equal(whoamiAfter.json().code, 'not_authenticated')
  const strict = await app.inject({ url: '/api/strict', cookies: { handoff_access: access } })
  t.equal(strict.statusCode, 401)
  t.equal(strict.json().code, 'not_authenticated')
})

t.test('onUserCreated that throws rolls the signup back; the signup cookie stays usable', async t => {
  let fail = true
  const app = await hostApp(t, {
    async onUserCreated ({ user, sql }) {
      await sql.query('UPDATE users SET name = $2 WHERE id = $1', [user.id, 'written by the hook'])
      if (fail) throw new Error('the app\'s database said no')
    }
  })
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  const refused = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(refused.statusCode, 500)
  t.equal(refused.json().code, 'signup_hook_failed')
  t.notMatch(refused.body, /database said no/, 'the hook\'s error stays in the log')
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'no user')
  t.equal(await app.handoff.db.prisma.identity.count(), 0, 'no identity')
  t.equal(await app.handoff.db.prisma.session.count(), 0, 'no session')

  fail = false
  const retry = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(retry.statusCode, 201, 'the same signup cookie works once the hook passes')
  t.equal((await app.handoff.db.prisma.user.findFirstOrThrow()).name, 'written by the hook', 'the hook\'s write committed with the account')
})

t.test('onUserCreated may refuse with its own 4xx', async t => {
  const Banned = createError('signup_closed', 'Signups are closed', 403)
  const app = await hostApp(t, { onUserCreated () { throw new Banned() } })
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  const refused = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'octocat' } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'signup_closed')
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('onLogin after signup and exchange, onUserDeleted after deletion; their failures are logged, not answered', async t => {
  const logins: Array<Pick<LoginEvent, 'method' | 'sessionId'> & { userId: string }> = []
  const deleted: string[] = []
  const app = await hostApp(t, {
    onLogin ({ user, sessionId, method }) {
      logins.push({ userId: user.id, sessionId, method })
      throw new Error('analytics down')
    },
    onUserDeleted ({ userId }) { deleted.push(userId) }
  })
  const first = newBrowser()
  const signup = await signIn(app, first)
  t.equal(signup.statusCode, 201, 'a failing onLogin does not fail the login')
  const userId = signup.json().user.id
  const second = newBrowser()
  const exchange = await signIn(app, second)
  t.equal(exchange.json().status, 'authenticated')
  t.same(logins.map(login => [login.userId, login.method]), [[userId, 'signup'], [userId, 'exchange']])
  t.not(logins[0].sessionId, logins[1].sessionId, 'one session per login')

  t.equal((await browse(app, second, '/users/me', { method: 'DELETE' })).statusCode, 204)
  t.same(deleted, [userId])
})
