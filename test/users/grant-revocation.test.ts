import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { fetchProviderJson, LoginErrorCode, LoginFlowError, type Provider, type ProviderIdentity } from '../../src/index.js'
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from '../../src/providers/grant-revocations.js'
import { unlinkIdentityByProvider } from '../../src/users/provider-unlink.js'
import { startFakeGitHub } from '../fakes/github.js'
import { FakeClock } from '../helpers/build-app.js'
import { freshTestDatabase, onPostgres } from '../helpers/database.js'
import { buildHostApp } from '../helpers/host-app.js'
import { browse, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

// Deleting an account or unlinking an identity here tells the provider (Provider.revokeGrant) in
// the background: a job written with the deletion, run at once, retried on a schedule while the
// provider fails. The provider here is a host app's own, played by the fake GitHub, whose
// revokeGrant is GitHub's "delete an app authorization" over real HTTP.

const server = await startFakeGitHub()
t.teardown(() => server.close())
t.beforeEach(() => {
  server.requests.length = 0
  server.revokedTokens.length = 0
  server.revokeGrant = 'ok'
})

const basic = `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`

/** What a provider author writes to revoke a grant: GitHub's DELETE /applications/{client_id}/grant. */
function inHouseProvider (): Provider {
  return {
    id: 'in-house',
    displayName: 'In-house SSO',
    oauth2: {
      clientId: server.clientId,
      clientSecret: server.clientSecret,
      authorizeUrl: `${server.webUrl}/login/oauth/authorize`,
      tokenUrl: `${server.webUrl}/login/oauth/access_token`,
      scope: ['read:user'],
      clientAuth: 'body'
    },
    readAccessToken (reply) {
      if (typeof reply.access_token !== 'string') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'no access_token')
      return reply.access_token
    },
    async fetchProfile (accessToken, { timeoutMs }) {
      const { body } = await fetchProviderJson(`${server.apiUrl}/user`, { headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'handoff-test' }, timeoutMs })
      return { provider: 'in-house', providerUserId: String((body as { id: number }).id), nickname: 'octocat', emailVerified: false }
    },
    async revokeGrant ({ tokens }: ProviderIdentity, { timeoutMs }) {
      if (tokens === null) throw new Error('no token kept')
      const response = await fetch(`${server.apiUrl}/applications/${server.clientId}/grant`, {
        method: 'DELETE',
        headers: { authorization: basic, 'content-type': 'application/json', 'user-agent': 'handoff-test' },
        body: JSON.stringify({ access_token: tokens.accessToken }),
        signal: AbortSignal.timeout(timeoutMs)
      })
      // The token in the message on purpose: handoff must keep it out of its log and its table.
      if (response.status !== 204) throw new Error(`revoking ${tokens.accessToken} answered ${response.status}`)
      return 'revoked'
    }
  }
}

interface Tap { teardown(fn: () => unknown): void }

async function revokeApp (t: Tap, options: { env?: Record<string, string>, database?: Awaited<ReturnType<typeof freshTestDatabase>>, clock?: FakeClock, providers?: Provider[] } = {}) {
  const clock = options.clock ?? new FakeClock()
  const hooks = {}
  const host = await buildHostApp(t, {
    database: (options.database ?? await freshTestDatabase()).target,
    env: { DEV_LOGIN: 'true', RATE_LIMIT_ENABLED: 'false', ...options.env },
    clock,
    hooks,
    providers: options.providers ?? [inHouseProvider()],
    routes: app => {
      app.post('/test/provider-unlink', async request => unlinkIdentityByProvider(app, hooks, request, request.body as { provider: string, providerUserId: string }, 'test'))
    }
  })
  return { ...host, clock }
}

const jobs = (app: FastifyInstance) => app.handoff.db.sql.query<{ provider: string, provider_user_id: string, tokens_ciphertext: string | null, attempts: number, next_attempt_at: Date, last_error: string | null }>(
  'SELECT provider, provider_user_id, tokens_ciphertext, attempts, next_attempt_at, last_error FROM provider_grant_revocations ORDER BY created_at')
const revokeCalls = () => server.requests.filter(request => request.method === 'DELETE' && request.path.endsWith('/grant'))

/** Signed up through the in-house provider; returns the browser, the user and the access token its login kept. */
async function signedUp (app: FastifyInstance) {
  const browser = newBrowser()
  const user = (await signIn(app, browser, 'in-house')).json().user as { id: string }
  const token = await app.handoff.providerAccessToken(user.id, 'in-house')
  if (token === null) throw new Error('no token kept')
  return { browser, user, token }
}

t.test('DELETE /users/me: the provider is told right after, with the kept token; the job is gone', async t => {
  const { app, logs, rawLogs } = await revokeApp(t)
  const { browser, token } = await signedUp(app)
  const deleted = await browse(app, browser, '/users/me', { method: 'DELETE' })
  t.equal(deleted.statusCode, 204)
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 0, noToken: 0, retried: 0, dropped: 0 }, 'the kick after the deletion already did it')
  t.same(server.revokedTokens, [token], 'the grant of the kept token is revoked')
  const [call] = revokeCalls()
  t.equal(call.headers.authorization, basic)
  t.equal(call.path, `/api/v3/applications/${server.clientId}/grant`)
  t.same(await jobs(app), [], 'the job is done')
  t.match(logs().filter(line => line.msg === 'grant revoked at the provider'), [{ provider: 'in-house', attempts: 1 }])
  t.notMatch(rawLogs(), token, 'no token in the log')
})

t.test('a failing provider: the deletion answers 204 all the same; the job is retried on schedule, then succeeds', async t => {
  const { app, clock, rawLogs } = await revokeApp(t)
  const { browser, token, user } = await signedUp(app)
  server.revokeGrant = 'status500'
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.equal(await app.handoff.db.prisma.user.count({ where: { id: user.id } }), 0, 'the account is gone')
  const [job] = await jobs(app)
  t.match(job, { provider: 'in-house', provider_user_id: String(server.user.id), attempts: 1, last_error: 'revoking [Redacted] answered 500' })
  t.notMatch(String(job.tokens_ciphertext), token, 'the token is sealed in the job')
  t.same(job.next_attempt_at, new Date(clock.now().getTime() + 60_000), 'retried in a minute')
  t.notMatch(rawLogs(), token, 'no token in the failure\'s log line')

  server.revokeGrant = 'ok'
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 0, noToken: 0, retried: 0, dropped: 0 }, 'not due yet')
  clock.advance(60)
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 1, noToken: 0, retried: 0, dropped: 0 })
  t.same(server.revokedTokens, [token])
  t.same(await jobs(app), [])
})

t.test('a provider that does not answer never holds the deletion up', async t => {
  const { app } = await revokeApp(t, { env: { PROVIDER_TIMEOUT_MS: '1500' } })
  const { browser } = await signedUp(app)
  server.revokeGrant = 'hang'
  const started = Date.now()
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
  t.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms, before the provider's timeout`)
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 0, noToken: 0, retried: 0, dropped: 0 }, 'the kicked pass timed out meanwhile')
  t.match(await jobs(app), [{ attempts: 1, last_error: /aborted|timeout/i }])
})

t.test('the schedule: 1 min, 5 min, 30 min, 2 h, then 6 h; given up after the last attempt with an error line', async t => {
  const { app, clock, logs, rawLogs } = await revokeApp(t)
  const { browser, token } = await signedUp(app)
  server.revokeGrant = 'status500'
  await browse(app, browser, '/users/me', { method: 'DELETE' })
  await app.handoff.grantRevocations.runDue()
  const delays: number[] = []
  for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
    const [job] = await jobs(app)
    t.equal(job.attempts, attempt)
    const delay = (job.next_attempt_at.getTime() - clock.now().getTime()) / 1000
    delays.push(delay)
    clock.advance(delay)
    t.same(await app.handoff.grantRevocations.runDue(), attempt + 1 < MAX_ATTEMPTS ? { revoked: 0, noToken: 0, retried: 1, dropped: 0 } : { revoked: 0, noToken: 0, retried: 0, dropped: 1 })
  }
  t.same(delays, [...RETRY_DELAYS_SECONDS, ...Array(MAX_ATTEMPTS - 1 - RETRY_DELAYS_SECONDS.length).fill(21_600)])
  t.same(RETRY_DELAYS_SECONDS, [60, 300, 1800, 7200, 21_600])
  t.same(await jobs(app), [], 'given up')
  t.equal(revokeCalls().length, MAX_ATTEMPTS)
  t.match(logs().filter(line => line.level === 50), [{ msg: `grant revocation given up after ${MAX_ATTEMPTS} attempts: the provider may still list our app for this person`, provider: 'in-house', reason: 'revoking [Redacted] answered 500' }])
  t.notMatch(rawLogs(), token)
})

t.test('DELETE /users/me/identities/:id: that identity\'s grant only', async t => {
  const { app } = await revokeApp(t)
  const { browser, user, token } = await signedUp(app)
  await app.handoff.db.sql.query("INSERT INTO identities (user_id, provider, provider_user_id) VALUES ($1, 'dev', 'alice')", [user.id])
  const [identity] = await app.handoff.db.sql.query<{ id: string }>("SELECT id FROM identities WHERE provider = 'in-house'")
  t.equal((await browse(app, browser, `/users/me/identities/${identity.id}`, { method: 'DELETE' })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.same(server.revokedTokens, [token])
  t.equal(revokeCalls().length, 1, 'the dev identity has nothing to revoke')
  t.same(await jobs(app), [])
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('a refused unlink (the last identity) queues nothing', async t => {
  const { app } = await revokeApp(t)
  const { browser } = await signedUp(app)
  const [identity] = await app.handoff.db.sql.query<{ id: string }>('SELECT id FROM identities')
  t.equal((await browse(app, browser, `/users/me/identities/${identity.id}`, { method: 'DELETE' })).json().code, 'last_identity')
  await app.handoff.grantRevocations.runDue()
  t.same(await jobs(app), [])
  t.same(revokeCalls(), [])
})

t.test('the provider\'s own unlink notice revokes nothing: the provider already forgot us', async t => {
  const { app } = await revokeApp(t)
  const { user } = await signedUp(app)
  const response = await app.inject({ method: 'POST', url: '/test/provider-unlink', payload: { provider: 'in-house', providerUserId: String(server.user.id) } })
  t.same(response.json(), { status: 'unlinked', userId: user.id, accountDeleted: true })
  await app.handoff.grantRevocations.runDue()
  t.same(await jobs(app), [])
  t.same(revokeCalls(), [])
})

t.test('a job whose provider is no longer enabled is dropped with a warning', async t => {
  const { app, logs } = await revokeApp(t)
  await app.handoff.db.sql.query("INSERT INTO provider_grant_revocations (provider, provider_user_id, next_attempt_at) VALUES ('line', 'U123', $1)", [app.handoff.clock.now()])
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 0, noToken: 0, retried: 0, dropped: 1 })
  t.same(await jobs(app), [])
  t.match(logs().filter(line => line.level === 40), [{ msg: 'grant revocation dropped: provider "line" is no longer enabled or cannot revoke grants', provider: 'line' }])
})

t.test('a provider with no kept token to revoke: the job is done, and the log says nothing was revoked', async t => {
  // Naver and Apple revoke by token only: an identity whose tokens were not kept has nothing to call with.
  const tokenless: Provider = { ...inHouseProvider(), async revokeGrant () { return 'no_token' } }
  const { app, logs } = await revokeApp(t, { providers: [tokenless] })
  await app.handoff.db.sql.query("INSERT INTO provider_grant_revocations (provider, provider_user_id, next_attempt_at) VALUES ('in-house', '42', $1)", [app.handoff.clock.now()])
  t.same(await app.handoff.grantRevocations.runDue(), { revoked: 0, noToken: 1, retried: 0, dropped: 0 })
  t.same(await jobs(app), [])
  const messages = logs().filter(line => line.provider === 'in-house').map(line => line.msg)
  t.same(messages, ['grant revocation: no token was kept for this identity, so the provider was not called'], 'not "grant revoked"')
})

t.test('accounts of providers that cannot revoke queue no job', async t => {
  const { app } = await revokeApp(t)
  const browser = newBrowser()
  await signInWithDev(app, browser, 'alice')
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
  t.same(await jobs(app), [])
})

t.test('two instances share the jobs: each grant is revoked once', { skip: onPostgres ? false : 'needs PostgreSQL (TEST_DATABASE_URL): one embedded database belongs to one process' }, async t => {
  const calls: string[] = []
  const counting: Provider = { ...inHouseProvider(), async revokeGrant ({ providerUserId }) { calls.push(providerUserId); await new Promise(resolve => setTimeout(resolve, 5)); return 'revoked' } }
  const database = await freshTestDatabase()
  const clock = new FakeClock()
  const [one, two] = [await revokeApp(t, { database, clock, providers: [counting] }), await revokeApp(t, { database, clock, providers: [counting] })]
  const ids = Array.from({ length: 60 }, (_, index) => `user-${index}`)
  await one.app.handoff.db.sql.query("INSERT INTO provider_grant_revocations (provider, provider_user_id, next_attempt_at) SELECT 'in-house', id, $2 FROM unnest($1::text[]) AS id", [ids, clock.now()])
  const [a, b] = await Promise.all([one.app.handoff.grantRevocations.runDue(), two.app.handoff.grantRevocations.runDue()])
  t.equal(a.revoked + b.revoked, 60)
  t.same([...calls].sort(), [...ids].sort(), 'each exactly once')
  t.same(await jobs(one.app), [])
})
