import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { HandoffHooks, IdentityUnlinkedEvent, UserDeletedEvent } from '../../src/lifecycle-hooks.js'
import { unlinkIdentityByProvider } from '../../src/users/provider-unlink.js'
import { startFakeGitHub } from '../fakes/github.js'
import type { Browser } from '../helpers/cookies.js'
import { freshTestDatabase, onPostgres } from '../helpers/database.js'
import { buildHostApp, type Revocation } from '../helpers/host-app.js'
import { browse, loginThroughProvider, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

// unlinkIdentityByProvider: what the Kakao and Naver unlink webhooks call once they have checked
// the provider's credentials. Driven here through a route of the host app's own, as a webhook is,
// with the real sessions, revocations and hooks.

const github = await startFakeGitHub()
t.teardown(() => github.close())

interface Tap { teardown(fn: () => unknown): void }

interface Events { revoked: Revocation[], unlinked: Array<Omit<IdentityUnlinkedEvent, 'request'>>, deleted: Array<Omit<UserDeletedEvent, 'request'>> }

/** A host app with POST /test/provider-unlink → unlinkIdentityByProvider, and every hook recorded. */
async function unlinkApp (t: Tap, env: Record<string, string> = {}) {
  const events: Events = { revoked: [], unlinked: [], deleted: [] }
  const hooks: HandoffHooks = {
    onSessionRevoked: ({ request: _request, ...event }) => { events.revoked.push(event) },
    onIdentityUnlinked: ({ request: _request, ...event }) => { events.unlinked.push(event) },
    onUserDeleted: ({ request: _request, ...event }) => { events.deleted.push(event) }
  }
  const host = await buildHostApp(t, {
    database: (await freshTestDatabase()).target,
    env: { ...github.env, DEV_LOGIN: 'true', RATE_LIMIT_ENABLED: 'false', ...env },
    hooks,
    routes: app => {
      app.post('/test/provider-unlink', async request => {
        const { provider, providerUserId, reason } = request.body as { provider: string, providerUserId: string, reason: string }
        return unlinkIdentityByProvider(app, hooks, request, { provider, providerUserId }, reason)
      })
    }
  })
  const unlink = async (provider: string, providerUserId: string, reason = 'UNLINK_FROM_APPS') => {
    const response = await host.app.inject({ method: 'POST', url: '/test/provider-unlink', payload: { provider, providerUserId, reason } })
    if (response.statusCode !== 200) throw new Error(`${response.statusCode}: ${response.body}`)
    return response.json()
  }
  return { ...host, events, unlink }
}

const me = async (app: FastifyInstance, browser: Browser) => (await browse(app, browser, '/auth/me')).statusCode
const count = async (app: FastifyInstance, table: string) => (await app.handoff.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n
const sessionOf = async (app: FastifyInstance, browser: Browser) => (await browse(app, browser, '/auth/sessions')).json().sessions.find((session: { current: boolean }) => session.current)?.id as string

/** An account signed up with the dev provider as `alice`, with GitHub's fake user linked to it; a browser signed in through each. */
async function twoIdentities (app: FastifyInstance) {
  const viaDev = newBrowser()
  await signInWithDev(app, viaDev, 'alice')
  const userId = (await browse(app, viaDev, '/auth/me')).json().user.id as string
  await app.handoff.db.sql.query("INSERT INTO identities (user_id, provider, provider_user_id) VALUES ($1, 'github', $2)", [userId, String(github.user.id)])
  const viaGitHub = newBrowser()
  t.equal((await signIn(app, viaGitHub)).json().status, 'authenticated')
  return { userId, viaDev, viaGitHub }
}

t.test('one identity of several: the sessions it opened end at once, the others stay; its tokens go; the hooks say the provider did it', async t => {
  const { app, events, unlink, logs } = await unlinkApp(t)
  const { userId, viaDev, viaGitHub } = await twoIdentities(app)
  const [githubSession, devSession] = [await sessionOf(app, viaGitHub), await sessionOf(app, viaDev)]
  const [identity] = await app.handoff.db.sql.query<{ id: string }>("SELECT id FROM identities WHERE provider = 'github'")
  t.equal(await count(app, 'provider_tokens'), 1, 'the GitHub login kept its tokens')

  t.same(await unlink('github', String(github.user.id)), { status: 'unlinked', userId, accountDeleted: false })
  t.equal(await me(app, viaGitHub), 401, 'the session GitHub opened is refused at once')
  t.equal((await browse(app, viaGitHub, '/auth/refresh', { method: 'POST' })).statusCode, 401, 'and cannot refresh')
  t.equal(await me(app, viaDev), 200, 'the dev session stays')
  t.same((await app.handoff.db.sql.query<{ provider: string }>('SELECT provider FROM identities')).map(row => row.provider), ['dev'])
  t.equal(await count(app, 'provider_tokens'), 0, 'its tokens went with it')
  t.equal(await count(app, 'provider_grant_revocations'), 0, 'no revocation queued: the provider already forgot us')

  t.same(events.revoked, [{ userId, sessionIds: [githubSession], reason: 'identity_unlinked' }])
  t.same(events.unlinked, [{ userId, identity: { id: identity.id, provider: 'github', providerUserId: String(github.user.id) }, initiator: 'provider', reason: 'UNLINK_FROM_APPS' }])
  t.same(events.deleted, [])
  t.match(logs().filter(line => line.msg === 'identity unlinked'), [{ userId, provider: 'github', identityId: identity.id, initiator: 'provider', reason: 'UNLINK_FROM_APPS' }])
  t.not(devSession, githubSession)
})

t.test('a replay, or an identity we never had: unknown, nothing changed, no hook', async t => {
  const { app, events, unlink } = await unlinkApp(t)
  const { viaGitHub } = await twoIdentities(app)
  t.equal((await unlink('github', String(github.user.id))).status, 'unlinked')
  const before = { events: JSON.stringify(events), identities: await count(app, 'identities'), sessions: await app.handoff.db.sql.query('SELECT id, revoked_at FROM sessions ORDER BY id') }
  t.same(await unlink('github', String(github.user.id)), { status: 'unknown' }, 'the same notice again')
  t.same(await unlink('kakao', '4242'), { status: 'unknown' }, 'someone who never signed up')
  t.same(await unlink('dev', 'alice ', 'x'), { status: 'unknown' }, 'ids are compared exactly')
  t.equal(JSON.stringify(events), before.events, 'no hook fired')
  t.equal(await count(app, 'identities'), before.identities)
  t.same(await app.handoff.db.sql.query('SELECT id, revoked_at FROM sessions ORDER BY id'), before.sessions, 'no session touched')
  t.equal(await me(app, viaGitHub), 401)
})

t.test('the last identity, ON_LAST_IDENTITY_UNLINKED=delete (default): the account is deleted as DELETE /users/me deletes it', async t => {
  const { app, events, unlink } = await unlinkApp(t)
  const [first, second] = [newBrowser(), newBrowser()]
  await signInWithDev(app, first, 'alice')
  await signInWithDev(app, second, 'alice')
  const userId = (await browse(app, first, '/auth/me')).json().user.id as string
  const sessions = [await sessionOf(app, first), await sessionOf(app, second)].sort()
  const [identity] = await app.handoff.db.sql.query<{ id: string }>('SELECT id FROM identities')

  t.same(await unlink('dev', 'alice'), { status: 'unlinked', userId, accountDeleted: true })
  t.same([await me(app, first), await me(app, second)], [401, 401], 'every session refused at once')
  for (const table of ['users', 'identities', 'sessions', 'login_codes']) t.equal(await count(app, table), 0, `no ${table} left`)
  t.equal(await count(app, 'revoked_sessions'), 2, 'their revocations outlive the account')
  t.same(events.revoked.map(event => ({ ...event, sessionIds: [...event.sessionIds].sort() })), [{ userId, sessionIds: sessions, reason: 'account_deleted' }])
  t.same(events.unlinked, [{ userId, identity: { id: identity.id, provider: 'dev', providerUserId: 'alice' }, initiator: 'provider', reason: 'UNLINK_FROM_APPS' }])
  t.same(events.deleted, [{ userId }], 'onUserDeleted, as for DELETE /users/me')
  t.same(await unlink('dev', 'alice'), { status: 'unknown' }, 'then a replay finds nothing')
})

t.test('the last identity, ON_LAST_IDENTITY_UNLINKED=keep: the account stays, signed out everywhere', async t => {
  const { app, events, unlink } = await unlinkApp(t, { ON_LAST_IDENTITY_UNLINKED: 'keep' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'alice')
  const userId = (await browse(app, browser, '/auth/me')).json().user.id as string
  // A session from before sessions recorded their identity: it ends too.
  const [legacy] = await app.handoff.db.sql.query<{ id: string }>("INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + interval '1 day') RETURNING id", [userId])

  t.same(await unlink('dev', 'alice'), { status: 'unlinked', userId, accountDeleted: false })
  t.equal(await me(app, browser), 401)
  t.equal(await count(app, 'users'), 1, 'the account is kept')
  t.equal(await count(app, 'identities'), 0, 'with no way to sign in')
  t.same(await app.handoff.db.sql.query('SELECT 1 FROM sessions WHERE revoked_at IS NULL'), [], 'and no live session')
  t.equal(events.revoked.length, 1)
  t.match(events.revoked[0], { userId, reason: 'identity_unlinked' })
  t.ok(events.revoked[0].sessionIds.includes(legacy.id), 'the session without an identity too')
  t.same(events.deleted, [])
  t.equal(events.unlinked.length, 1)
})

t.test('concurrent notices for one identity: one unlinks, the others find nothing; no error, nothing half-done', async t => {
  const { app, events, unlink } = await unlinkApp(t)
  const { userId } = await twoIdentities(app)
  const results = await Promise.all(Array.from({ length: 8 }, () => unlink('github', String(github.user.id))))
  t.same(results.filter(result => result.status === 'unlinked'), [{ status: 'unlinked', userId, accountDeleted: false }], 'exactly one unlinked')
  t.equal(results.filter(result => result.status === 'unknown').length, 7)
  t.equal(events.unlinked.length, 1, 'one hook')
  t.equal(await count(app, 'identities'), 1)

  // The last identity now, with account deletion: the same.
  const last = await Promise.all(Array.from({ length: 8 }, () => unlink('dev', 'alice')))
  t.equal(last.filter(result => result.status === 'unlinked' && result.accountDeleted === true).length, 1)
  t.equal(await count(app, 'users'), 0)
  t.same(events.deleted, [{ userId }])
})

t.test('a notice racing a login through that identity: the login fails cleanly or its session is refused; never a 500', async t => {
  const { app, unlink } = await unlinkApp(t)
  for (let round = 0; round < 4; round++) {
    const { viaDev } = await twoIdentities(app)
    const browser = newBrowser()
    const { params } = await loginThroughProvider(app, browser, 'github')
    const code = params.get('code')
    const [result, exchange] = await Promise.all([
      unlink('github', String(github.user.id)),
      browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
    ])
    t.equal(result.status, 'unlinked')
    t.ok([200, 400].includes(exchange.statusCode), `exchange answered ${exchange.statusCode}`)
    if (exchange.statusCode === 400) t.equal(exchange.json().code, 'login_code_invalid')
    t.equal(await me(app, browser), 401, 'no working session through the unlinked identity')
    t.equal(await me(app, viaDev), 200)
    await app.handoff.db.sql.query('DELETE FROM users')
  }
})

t.test('a notice racing a login callback: the login goes on as a first login or to the account; never a 500', { skip: onPostgres ? false : 'the embedded database runs one statement at a time' }, async t => {
  const { app, unlink } = await unlinkApp(t)
  await twoIdentities(app)
  const browsers = Array.from({ length: 4 }, () => newBrowser())
  const [result, ...logins] = await Promise.all([unlink('github', String(github.user.id)), ...browsers.map(browser => loginThroughProvider(app, browser, 'github'))])
  t.equal(result.status, 'unlinked')
  for (const login of logins) t.ok(login.params.get('code'), `a code, not error=${login.params.get('error')}`)
})
