import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { HandoffHooks } from '../../src/lifecycle-hooks.js'
import { encryptNaverUniqueId, signNaverUnlink, startFakeNaver, type NaverUnlinkWebhook } from '../fakes/naver.js'
import { buildTestApp, FakeClock, type TestApp } from '../helpers/build-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

// Naver's unlink webhook, sent by the fake (signed and encrypted as Naver's guide §4.4 describes)
// over real HTTP to the app listening on a port.

const naver = await startFakeNaver()
t.teardown(() => naver.close())
t.beforeEach(() => {
  naver.requests.length = 0
  naver.revoke = 'ok'
})

interface ListeningApp extends TestApp { webhookUrl: string, send(options: NaverUnlinkWebhook): ReturnType<typeof naver.sendUnlinkWebhook> }

/** The app's clock and the sender's agree: the fake signs with the test clock's time unless told otherwise. */
async function listening (t: Test, env: Record<string, string> = {}, options: { logs?: boolean, hooks?: HandoffHooks } = {}): Promise<ListeningApp> {
  const clock = new FakeClock()
  const testApp = await buildTestApp(t, { ...naver.env, ...env }, { ...options, clock })
  const address = await testApp.app.listen({ host: '127.0.0.1', port: 0 })
  const webhookUrl = `${address}/auth/naver/unlink`
  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000)
  return Object.assign(testApp, { webhookUrl, send: (webhook: NaverUnlinkWebhook) => naver.sendUnlinkWebhook(webhookUrl, { timestamp: nowSeconds(), ...webhook }) })
}

const counts = async (app: FastifyInstance) => ({
  users: await app.handoff.db.prisma.user.count(),
  identities: await app.handoff.db.prisma.identity.count(),
  sessions: await app.handoff.db.prisma.session.count({ where: { revokedAt: null } })
})

const code = (body: string) => (JSON.parse(body) as { code: string }).code

t.test('refused calls: 401 for what only a forger gets wrong, 400 for what is malformed; nothing changed, each logged, no secret in the log', async t => {
  const { app, send, clock, rawLogs } = await listening(t, {}, { logs: true })
  const before = await counts(app)
  const now = Math.floor(clock.now().getTime() / 1000)
  const cases: Array<{ name: string, webhook: NaverUnlinkWebhook, status: number, code: string }> = [
    { name: 'signed with another client secret', webhook: { userId: naver.user.id, clientSecret: 'a-forgers-guess' }, status: 401, code: 'unlink_unauthorized' },
    { name: 'another app\'s clientId', webhook: { userId: naver.user.id, clientId: 'anotherClientId' }, status: 401, code: 'unlink_unauthorized' },
    { name: 'a signature changed in transit', webhook: { userId: naver.user.id, tamper: params => { params.signature = params.signature.replace(/^./, c => c === 'A' ? 'B' : 'A') } }, status: 401, code: 'unlink_unauthorized' },
    { name: 'a ciphertext changed in transit (the signature covers it)', webhook: { userId: naver.user.id, tamper: params => { params.encryptUniqueId = encryptNaverUniqueId('someone-else', naver.clientSecret) } }, status: 401, code: 'unlink_unauthorized' },
    { name: 'a stale timestamp (a replay 10 minutes later)', webhook: { userId: naver.user.id, timestamp: now - 600 }, status: 401, code: 'unlink_unauthorized' },
    { name: 'a timestamp from the future', webhook: { userId: naver.user.id, timestamp: now + 600 }, status: 401, code: 'unlink_unauthorized' },
    { name: 'no signature', webhook: { userId: naver.user.id, tamper: params => { delete params.signature } }, status: 400, code: 'unlink_request_invalid' },
    { name: 'no timestamp', webhook: { userId: naver.user.id, tamper: params => { delete params.timestamp } }, status: 400, code: 'unlink_request_invalid' },
    {
      name: 'a tampered ciphertext signed with our key (does not decrypt)',
      webhook: {
        userId: naver.user.id,
        tamper: params => {
          const sealed = Buffer.from(params.encryptUniqueId, 'base64url')
          sealed[sealed.length - 1] ^= 0xff
          params.encryptUniqueId = sealed.toString('base64url')
          params.signature = signNaverUnlink(params.clientId, params.encryptUniqueId, params.timestamp, naver.clientSecret)
        }
      },
      status: 400,
      code: 'unlink_request_invalid'
    }
  ]
  for (const { name, webhook, status, code: expected } of cases) {
    const response = await send(webhook)
    t.equal(response.status, status, name)
    t.equal(code(response.body), expected, name)
  }
  t.same(await counts(app), before, 'nothing changed')
  t.equal((rawLogs().match(/naver unlink webhook refused/g) ?? []).length, cases.length, 'each refusal is logged')
  t.notMatch(rawLogs(), new RegExp(naver.clientSecret), 'no client secret in the log')
})

t.test('the parameters in the query string, as Naver\'s sample request sends them: accepted, and redacted from the access log', async t => {
  const { send, rawLogs } = await listening(t, {}, { logs: true })
  const response = await send({ userId: 'never-signed-in-here', in: 'query' })
  t.equal(response.status, 204)
  t.equal(response.body, '')
  const access = rawLogs().split('\n').find(line => line.includes('/auth/naver/unlink')) ?? ''
  t.match(access, /signature=%5BRedacted%5D/, 'the signature is not logged')
  t.match(access, /encryptUniqueId=%5BRedacted%5D/, 'nor the encrypted id')
})

t.test('an unknown user (never signed in here): 204, nothing changed', async t => {
  const { app, send } = await listening(t)
  const before = await counts(app)
  const response = await send({ userId: 'AAAAnotAnIdWeKnow' })
  t.equal(response.status, 204)
  t.same(await counts(app), before)
})

t.test('NAVER_UNLINK_WINDOW_SECONDS: a call 10 minutes old passes a 15-minute window', async t => {
  const { send, clock } = await listening(t, { NAVER_UNLINK_WINDOW_SECONDS: '900' })
  const response = await send({ userId: 'AAAAnotAnIdWeKnow', timestamp: Math.floor(clock.now().getTime() / 1000) - 600 })
  t.equal(response.status, 204)
})

t.test('without Naver the webhook does not exist (404)', async t => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/auth/naver/unlink' })).statusCode, 404)
})

// Through to the rows.

t.test('a person who withdrew consent at Naver: identity, account and session go; a replay within the window changes nothing', async t => {
  const unlinked: unknown[] = []
  const { app, send, webhookUrl } = await listening(t, {}, { hooks: { onIdentityUnlinked: event => { unlinked.push({ ...event, request: undefined }) } } })
  const browser = newBrowser()
  const userId = (await signIn(app, browser, 'naver')).json().user.id as string
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200)

  const params: Record<string, string> = {}
  const response = await send({ userId: naver.user.id, tamper: sent => { Object.assign(params, sent) } })
  t.equal(response.status, 204)
  t.equal(response.body, '')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 401, 'the session ends at once')
  t.same(await counts(app), { users: 0, identities: 0, sessions: 0 })
  t.match(unlinked, [{ userId, identity: { provider: 'naver', providerUserId: naver.user.id }, initiator: 'provider' }])

  // The very same call again (same ciphertext, signature and timestamp): within the window it
  // verifies, finds nothing to remove, and answers 204.
  const replay = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() })
  t.equal(replay.status, 204)
  t.equal(unlinked.length, 1, 'nothing fired again')
})

t.test('a captured call replayed after the person signed in again (within the window) leaves the new identity alone', async t => {
  const { app, send, webhookUrl, clock } = await listening(t)
  await signIn(app, newBrowser(), 'naver')
  const params: Record<string, string> = {}
  t.equal((await send({ userId: naver.user.id, tamper: sent => { Object.assign(params, sent) } })).status, 204)
  t.same(await counts(app), { users: 0, identities: 0, sessions: 0 }, 'the unlink itself took effect')

  clock.advance(30)
  const browser = newBrowser()
  await signIn(app, browser, 'naver')
  const before = await counts(app)
  t.same(before, { users: 1, identities: 1, sessions: 1 }, 'the person came back')
  const replay = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() })
  t.equal(replay.status, 204)
  t.same(await counts(app), before, 'identity, account and session stay')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 200, 'still signed in')
})

t.test('unlink on withdrawal: deleting the account revokes the kept refresh token at Naver, retried after a 503', async t => {
  const { app, clock } = await listening(t)
  const browser = newBrowser()
  await signIn(app, browser, 'naver')
  const { accessToken, refreshToken } = naver.lastTokens!
  naver.revoke = 'status503'
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204, 'the deletion does not wait for Naver')
  // The deletion kicked a pass already; this one runs after it.
  await app.handoff.grantRevocations.runDue()
  const [job] = await app.handoff.db.sql.query<{ attempts: number, last_error: string }>('SELECT attempts, last_error FROM provider_grant_revocations')
  t.match(job, { attempts: 1, last_error: /answered 503 temporarily_unavailable/ }, 'kept for a retry')
  t.notMatch(job.last_error, refreshToken, 'no token in the recorded error')
  t.ok(naver.isLive(refreshToken), 'not revoked yet')
  naver.revoke = 'ok'
  clock.advance(24 * 3600)
  t.match(await app.handoff.grantRevocations.runDue(), { revoked: 1 })
  const call = naver.requests.filter(request => request.path === '/oauth2.0/revoke').at(-1)
  t.same(call?.body, { client_id: naver.clientId, client_secret: naver.clientSecret, token: refreshToken, token_type_hint: 'refresh_token' })
  t.notOk(naver.isLive(refreshToken), 'revoked at Naver')
  t.notOk(naver.isLive(accessToken), 'with its access token')
})
