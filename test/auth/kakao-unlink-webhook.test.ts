import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { startFakeKakao, type UnlinkWebhook } from '../fakes/kakao.js'
import type { HandoffHooks } from '../../src/lifecycle-hooks.js'
import { buildTestApp, type FakeClock, type TestApp } from '../helpers/build-app.js'
import { browse, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

// Kakao's unlink webhook, sent by the fake over real HTTP to the app listening on a port, as
// Kakao's servers call the URL registered in its console.

const kakao = await startFakeKakao()
t.teardown(() => kakao.close())
t.beforeEach(() => {
  kakao.requests.length = 0
  kakao.adminKey = 'fake-kakao-primary-admin-key'
  kakao.unlink = 'ok'
  kakao.linked.clear()
})

interface ListeningApp extends TestApp { webhookUrl: string, send(options: UnlinkWebhook): ReturnType<typeof kakao.sendUnlinkWebhook> }

async function listening (t: Test, env: Record<string, string> = {}, options: { logs?: boolean, clock?: FakeClock, hooks?: HandoffHooks } = {}): Promise<ListeningApp> {
  const testApp = await buildTestApp(t, { ...kakao.env, ...kakao.adminEnv, ...env }, options)
  const address = await testApp.app.listen({ host: '127.0.0.1', port: 0 })
  const webhookUrl = `${address}/auth/kakao/unlink`
  return Object.assign(testApp, { webhookUrl, send: (webhook: UnlinkWebhook) => kakao.sendUnlinkWebhook(webhookUrl, webhook) })
}

const counts = async (app: FastifyInstance) => ({
  users: await app.handoff.db.prisma.user.count(),
  identities: await app.handoff.db.prisma.identity.count(),
  sessions: await app.handoff.db.prisma.session.count({ where: { revokedAt: null } })
})

t.test('a wrong, missing or malformed admin key: 401 unlink_unauthorized, with either method, nothing changed', async t => {
  const { app, send, webhookUrl, rawLogs } = await listening(t, {}, { logs: true })
  const before = await counts(app)
  const cases: Array<[string, UnlinkWebhook]> = [
    ['another admin key (POST)', { userId: '4287654321', adminKey: 'someone-elses-admin-key' }],
    ['another admin key (GET)', { method: 'GET', userId: '4287654321', adminKey: 'someone-elses-admin-key' }],
    ['no Authorization header', { userId: '4287654321', adminKey: null }],
    ['a prefix of the key', { userId: '4287654321', adminKey: 'fake-kakao-primary-admin' }],
    ['the key and more', { userId: '4287654321', adminKey: 'fake-kakao-primary-admin-key2' }]
  ]
  for (const [name, webhook] of cases) {
    const response = await send(webhook)
    t.equal(response.status, 401, name)
    t.equal(JSON.parse(response.body).code, 'unlink_unauthorized', name)
  }
  // The right key as a Bearer token is still not KakaoAK.
  const bearer = await fetch(webhookUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${kakao.adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ app_id: kakao.appId, user_id: '4287654321', referrer_type: 'UNLINK_FROM_APPS' }).toString()
  })
  t.equal(bearer.status, 401, 'Bearer <admin key>')
  t.same(await counts(app), before, 'nothing changed')
  t.match(rawLogs(), /kakao unlink webhook refused/, 'each refusal is logged')
  t.notMatch(rawLogs(), /someone-elses-admin-key|fake-kakao-primary-admin-key/, 'no admin key, ours or presented, in the log')
})

t.test('the right key for another app id: 401 unlink_unauthorized, nothing changed', async t => {
  const { app, send } = await listening(t)
  const before = await counts(app)
  for (const method of ['GET', 'POST'] as const) {
    const response = await send({ method, userId: '4287654321', appId: '7654321' })
    t.equal(response.status, 401, method)
    t.equal(JSON.parse(response.body).code, 'unlink_unauthorized')
    t.match(JSON.parse(response.body).message, /app_id/)
  }
  t.same(await counts(app), before)
})

t.test('missing or malformed fields with the right key: 400 unlink_request_invalid; with a wrong key the fields are not even looked at (401)', async t => {
  const { webhookUrl } = await listening(t)
  const post = (form: Record<string, string>, adminKey = kakao.adminKey) => fetch(webhookUrl, {
    method: 'POST',
    headers: { authorization: `KakaoAK ${adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString()
  })
  const complete = { app_id: kakao.appId, user_id: '4287654321', referrer_type: 'UNLINK_FROM_APPS' }
  for (const missing of ['app_id', 'user_id', 'referrer_type'] as const) {
    const form: Record<string, string> = { ...complete }
    delete form[missing]
    const response = await post(form)
    t.equal(response.status, 400, `without ${missing}`)
    t.equal(((await response.json()) as { code: string }).code, 'unlink_request_invalid')
    t.equal((await post(form, 'wrong-key')).status, 401, `without ${missing}, wrong key: 401`)
  }
  for (const [name, form] of [['a user id that is not digits', { ...complete, user_id: 'abc' }], ['an empty referrer_type', { ...complete, referrer_type: '' }], ['a lower-case referrer_type', { ...complete, referrer_type: 'unlink' }]] as const) {
    const response = await post(form)
    t.equal(response.status, 400, name)
    t.equal(((await response.json()) as { code: string }).code, 'unlink_request_invalid', name)
  }
  const get = await fetch(`${webhookUrl}?user_id=4287654321`, { headers: { authorization: `KakaoAK ${kakao.adminKey}` } })
  t.equal(get.status, 400, 'GET without app_id and referrer_type')
})

t.test('an unknown user (never signed in here): 200 with an empty body, within Kakao\'s 3 seconds, by GET and by POST', async t => {
  const { app, send } = await listening(t)
  const before = await counts(app)
  for (const method of ['GET', 'POST'] as const) {
    const response = await send({ method, userId: '1111111111', referrerType: 'INCOMPLETE_SIGN_UP' })
    t.equal(response.status, 200, method)
    t.equal(response.body, '', 'an empty body')
    t.ok(response.elapsedMs < 3000, `answered in ${Math.round(response.elapsedMs)} ms`)
  }
  t.same(await counts(app), before)
})

t.test('without KAKAO_ADMIN_KEY the webhook does not exist (404)', async t => {
  const { app } = await buildTestApp(t, kakao.env)
  for (const method of ['GET', 'POST'] as const) t.equal((await app.inject({ method, url: '/auth/kakao/unlink' })).statusCode, 404, method)
})

t.test('without Kakao the webhook does not exist (404)', async t => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/auth/kakao/unlink' })).statusCode, 404)
})

// Through to the rows: the webhook as Kakao sends it after a person disconnected our app there.

/** Every hook call, by hook name, in order. */
function recordingHooks () {
  const calls: Array<[string, Record<string, unknown>]> = []
  const record = (name: string) => (event: object) => { calls.push([name, { ...event, request: undefined }]) }
  const hooks: HandoffHooks = { onIdentityUnlinked: record('onIdentityUnlinked'), onUserDeleted: record('onUserDeleted'), onSessionRevoked: record('onSessionRevoked') }
  return { hooks, calls }
}

t.test('a person who disconnected at Kakao: the identity and the account go, the session ends at once; a replay changes nothing', async t => {
  const { hooks, calls } = recordingHooks()
  const { app, send } = await listening(t, {}, { hooks })
  const browser = newBrowser()
  const userId = (await signIn(app, browser, 'kakao')).json().user.id as string
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200, 'signed in')

  const response = await send({ method: 'POST', userId: '4287654321', referrerType: 'UNLINK_FROM_APPS' })
  t.equal(response.status, 200)
  t.equal(response.body, '')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 401, 'its access cookie is refused at once')
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 401, 'its refresh cookie too')
  t.same(await counts(app), { users: 0, identities: 0, sessions: 0 }, 'ON_LAST_IDENTITY_UNLINKED=delete (the default): the account is gone')
  t.match(calls.find(([name]) => name === 'onIdentityUnlinked')?.[1], { userId, identity: { provider: 'kakao', providerUserId: '4287654321' }, initiator: 'provider', reason: 'UNLINK_FROM_APPS' })
  t.match(calls.find(([name]) => name === 'onUserDeleted')?.[1], { userId })

  calls.length = 0
  const replay = await send({ method: 'POST', userId: '4287654321', referrerType: 'UNLINK_FROM_APPS' })
  t.equal(replay.status, 200, 'a replay answers 200')
  t.same(calls, [], 'and fires nothing')
  // Kakao already unlinked the user: nothing calls it back.
  await app.handoff.grantRevocations.runDue()
  t.notOk(kakao.requests.some(request => request.path === '/v1/user/unlink'), 'no unlink call to Kakao')
})

t.test('ON_LAST_IDENTITY_UNLINKED=keep: the account stays, signed out everywhere, without the identity (GET webhook)', async t => {
  const { hooks, calls } = recordingHooks()
  const { app, send } = await listening(t, { ON_LAST_IDENTITY_UNLINKED: 'keep' }, { hooks })
  const [first, second] = [newBrowser(), newBrowser()]
  await signIn(app, first, 'kakao')
  await signIn(app, second, 'kakao')
  const response = await send({ method: 'GET', userId: '4287654321', referrerType: 'ACCOUNT_DELETE' })
  t.equal(response.status, 200)
  t.same(await counts(app), { users: 1, identities: 0, sessions: 0 })
  for (const browser of [first, second]) t.equal((await browse(app, browser, '/auth/me')).statusCode, 401)
  t.notOk(calls.some(([name]) => name === 'onUserDeleted'), 'no deletion')
})

t.test('an account with another identity: only Kakao\'s goes, with the sessions Kakao logins opened; the others stay', async t => {
  const { app, send } = await listening(t, { DEV_LOGIN: 'true' })
  const viaDev = newBrowser()
  await signInWithDev(app, viaDev, 'gildong')
  const start = await browse(app, viaDev, '/auth/kakao/link', { method: 'POST', payload: {} })
  t.equal(start.statusCode, 200, 'link started')
  const callbackUrl = new URL(String((await fetch(start.json().authorizationUrl, { redirect: 'manual' })).headers.get('location')))
  const linked = await browse(app, viaDev, callbackUrl.pathname + callbackUrl.search)
  t.match(String(linked.headers.location), /linked=kakao/, 'Kakao linked')
  const viaKakao = newBrowser()
  await signIn(app, viaKakao, 'kakao')
  t.equal((await browse(app, viaKakao, '/auth/me')).statusCode, 200)

  t.equal((await send({ userId: '4287654321' })).status, 200)
  t.equal((await browse(app, viaKakao, '/auth/me')).statusCode, 401, 'the session a Kakao login opened ends')
  t.equal((await browse(app, viaDev, '/auth/me')).statusCode, 200, 'the dev login\'s session stays')
  const me = (await browse(app, viaDev, '/users/me')).json().user
  t.same(me.identities.map((identity: { provider: string }) => identity.provider), ['dev'])
})

t.test('unlink on withdrawal: deleting the account unlinks it at Kakao in the background, retried while Kakao fails', async t => {
  const { app, clock } = await listening(t, { PROVIDER_TIMEOUT_MS: '300' })
  const browser = newBrowser()
  await signIn(app, browser, 'kakao')
  kakao.unlink = 'status500'
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204, 'the deletion does not wait for Kakao')
  t.equal(await app.handoff.db.prisma.user.count(), 0)
  // The deletion kicked a pass already; this one runs after it.
  await app.handoff.grantRevocations.runDue()
  const [job] = await app.handoff.db.sql.query<{ attempts: number, last_error: string }>('SELECT attempts, last_error FROM provider_grant_revocations')
  t.match(job, { attempts: 1, last_error: /answered 500/ }, 'Kakao answered 500: kept for a retry')
  t.notMatch(job.last_error, kakao.adminKey, 'no admin key in the recorded error')
  t.ok(kakao.linked.has('4287654321'), 'still linked at Kakao')
  kakao.unlink = 'hang'
  clock.advance(24 * 3600)
  t.match(await app.handoff.grantRevocations.runDue(), { retried: 1 }, 'no answer within PROVIDER_TIMEOUT_MS: retried later')
  kakao.unlink = 'ok'
  clock.advance(24 * 3600)
  t.match(await app.handoff.grantRevocations.runDue(), { revoked: 1 })
  t.notOk(kakao.linked.has('4287654321'), 'unlinked at Kakao')
  const calls = kakao.requests.filter(request => request.path === '/v1/user/unlink')
  t.equal(calls.at(-1)?.headers.authorization, `KakaoAK ${kakao.adminKey}`)
  t.same(calls.at(-1)?.body, { target_id_type: 'user_id', target_id: '4287654321' })
})

t.test('without KAKAO_ADMIN_KEY, deleting the account calls nothing at Kakao', async t => {
  const { app } = await buildTestApp(t, kakao.env)
  const browser = newBrowser()
  await signIn(app, browser, 'kakao')
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.notOk(kakao.requests.some(request => request.path === '/v1/user/unlink'))
  t.ok(kakao.linked.has('4287654321'), 'Kakao still lists the app: the start line said unlink on withdrawal is off')
})
