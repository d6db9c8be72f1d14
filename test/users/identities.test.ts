import t from 'tap'
import type { IdentityUnlinkedEvent } from '../../src/lifecycle-hooks.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import type { Browser } from '../helpers/cookies.js'
import { onPostgres } from '../helpers/database.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
interface Identity { id: string, provider: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Adds an identity row to the account (as a link or a verified-email login would), linked a minute after the last. */
async function addIdentity (app: App, userId: string, provider: string, providerUserId: string): Promise<void> {
  await app.handoff.db.sql.query(`INSERT INTO identities (user_id, provider, provider_user_id, created_at)
    SELECT $1, $2, $3, coalesce(max(created_at), $4) + interval '1 minute' FROM identities WHERE user_id = $1`, [userId, provider, providerUserId, app.handoff.clock.now()])
}

const identitiesOf = async (app: App, browser: Browser): Promise<Identity[]> => (await browse(app, browser, '/users/me')).json().user.identities
const unlink = (app: App, browser: Browser, key: string) => browse(app, browser, `/users/me/identities/${key}`, { method: 'DELETE' })

/** Signed in with GitHub, plus a second GitHub account and a Kakao one: three identities. */
async function threeIdentities (app: App) {
  const browser = newBrowser()
  const user = (await signIn(app, browser)).json().user
  await addIdentity(app, user.id, 'github', '1000001')
  await addIdentity(app, user.id, 'kakao', '4242')
  return { browser, user }
}

t.test('GET /users/me lists each identity with its id; DELETE by id unlinks exactly that one', async t => {
  const unlinked: IdentityUnlinkedEvent[] = []
  const { app, logs, rawLogs } = await buildTestApp(t, github.env, { logs: true, hooks: { onIdentityUnlinked: event => { unlinked.push(event) } } })
  const { browser, user } = await threeIdentities(app)
  const identities = await identitiesOf(app, browser)
  t.same(identities.map(identity => identity.provider), ['github', 'github', 'kakao'])
  for (const identity of identities) t.match(identity.id, UUID, 'each identity has its uuid')
  const [, second, kakao] = identities

  const deleted = await unlink(app, browser, second.id)
  t.equal(deleted.statusCode, 204)
  t.same((await identitiesOf(app, browser)).map(identity => identity.id), [identities[0].id, kakao.id], 'only that GitHub account is gone')
  t.same((await app.handoff.db.prisma.identity.findMany({ where: { provider: 'github' } })).map(identity => identity.providerUserId), ['583231'])

  const sessionId = (await app.handoff.db.prisma.session.findFirstOrThrow()).id
  t.equal(unlinked.length, 1)
  const { request, ...event } = unlinked[0]
  t.same(event, { userId: user.id, identity: { id: second.id, provider: 'github', providerUserId: '1000001' }, initiator: 'user', sessionId })
  t.ok(request.id, 'with the request')
  t.match(logs.filter(line => line.msg === 'identity unlinked'), [{ level: 30, userId: user.id, sessionId, provider: 'github', identityId: second.id, initiator: 'user' }])
  t.notMatch(rawLogs(), 'octocat@github.com', 'no email in the log')

  t.equal((await unlink(app, browser, second.id)).json().code, 'identity_not_found', 'gone: 404')
  t.equal((await unlink(app, browser, kakao.id.toUpperCase())).statusCode, 204, 'an id in capitals is the same id')
  t.equal(unlinked.length, 2)
})

t.test('a provider name still works with one identity of it, and is refused with two', async t => {
  const unlinked: IdentityUnlinkedEvent[] = []
  const { app } = await buildTestApp(t, github.env, { hooks: { onIdentityUnlinked: event => { unlinked.push(event) } } })
  const { browser } = await threeIdentities(app)

  const ambiguous = await unlink(app, browser, 'github')
  t.equal(ambiguous.statusCode, 409)
  t.equal(ambiguous.json().code, 'identity_ambiguous')
  t.match(ambiguous.json().message, /identity id/)
  t.equal(await app.handoff.db.prisma.identity.count(), 3, 'nothing deleted')
  t.same(unlinked, [], 'no hook for a refusal')

  t.equal((await unlink(app, browser, 'kakao')).statusCode, 204, 'the only Kakao identity, by name')
  t.same((await identitiesOf(app, browser)).map(identity => identity.provider), ['github', 'github'])
  t.match(unlinked, [{ identity: { provider: 'kakao', providerUserId: '4242' } }])
})

t.test('never the last identity: 409 last_identity, by id or by name', async t => {
  const { app } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const [only] = await identitiesOf(app, browser)
  for (const key of [only.id, 'github']) {
    const last = await unlink(app, browser, key)
    t.equal(last.statusCode, 409, key)
    t.equal(last.json().code, 'last_identity')
  }
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('another user\'s identity id: 404 identity_not_found, untouched', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { browser } = await threeIdentities(app)
  const victim = await app.handoff.db.prisma.user.create({ data: { nickname: 'victim', nicknameKey: 'victim' } })
  await addIdentity(app, victim.id, 'naver', 'n-1')
  await addIdentity(app, victim.id, 'kakao', 'k-1')
  const theirs = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { userId: victim.id, provider: 'naver' } })

  const refused = await unlink(app, browser, theirs.id)
  t.equal(refused.statusCode, 404)
  t.equal(refused.json().code, 'identity_not_found')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { userId: victim.id } }), 2, 'their identities stay')
  t.equal((await unlink(app, browser, 'naver')).json().code, 'identity_not_found', 'their provider is not ours either')
})

t.test('a value that is neither an identity id nor a provider: a clear 4xx, never a 500', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { browser } = await threeIdentities(app)
  const notFound = ['not-a-uuid', '00000000-0000-4000-8000-000000000000', '0000000-0000-0000-0000-000000000000', "github' OR '1'='1", 'GITHUB', '%00', 'github%20', '..%2F..%2Fauth']
  for (const key of notFound) {
    const answer = await unlink(app, browser, key)
    t.equal(answer.statusCode, 404, key)
    t.equal(answer.json().code, 'identity_not_found', key)
  }
  const tooLong = await unlink(app, browser, 'x'.repeat(65))
  t.equal(tooLong.statusCode, 400)
  t.equal(tooLong.json().code, 'invalid_request')
  t.equal(await app.handoff.db.prisma.identity.count(), 3, 'nothing deleted')
})

t.test('DELETE /users/me/identities/:id signed out or cross-site: 401 / 403, nothing deleted', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { browser } = await threeIdentities(app)
  const [identity] = await identitiesOf(app, browser)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/me/identities/${identity.id}`, headers: { 'x-requested-with': 'fetch' } })).json().code, 'not_authenticated')
  const cookie = await browser.cookieHeader('/users/me')
  t.equal((await app.inject({ method: 'DELETE', url: `/users/me/identities/${identity.id}`, headers: { cookie } })).json().code, 'csrf_rejected')
  t.equal((await app.inject({ method: 'DELETE', url: `/users/me/identities/${identity.id}`, headers: { cookie, 'x-requested-with': 'fetch', origin: 'https://evil.test' } })).json().code, 'csrf_rejected')
  t.equal(await app.handoff.db.prisma.identity.count(), 3)
})

t.test(`two unlinks racing for the last two identities: one 204, one 409 (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, async t => {
  const { app } = await buildTestApp(t, github.env)
  for (let round = 0; round < 5; round++) {
    await app.handoff.db.sql.exec('TRUNCATE users CASCADE')
    const browser = newBrowser()
    const user = (await signIn(app, browser)).json().user
    await addIdentity(app, user.id, 'kakao', '4242')
    const [first, second] = await identitiesOf(app, browser)
    const answers = await Promise.all([unlink(app, browser, first.id), unlink(app, browser, second.id)])
    t.same(answers.map(answer => answer.statusCode).sort(), [204, 409], `round ${round}`)
    t.equal(answers.find(answer => answer.statusCode === 409)?.json().code, 'last_identity')
    t.equal(await app.handoff.db.prisma.identity.count({ where: { userId: user.id } }), 1, 'one way to sign in is left')
  }
})

t.test('the OpenAPI document shows the unlink by id, every status, and the identity id in the profile', async t => {
  const { app } = await buildTestApp(t, github.env)
  const document = (await app.inject('/docs/json')).json()
  const unlinkRoute = document.paths['/users/me/identities/{id}']
  t.same(Object.keys(unlinkRoute), ['delete'])
  t.same(Object.keys(unlinkRoute.delete.responses).sort(), ['204', '400', '401', '403', '404', '409'])
  t.match(unlinkRoute.delete.description, /identity_ambiguous/)
  t.notOk(document.paths['/users/me/identities/{provider}'], 'the old parameter name is gone')
  t.match(document.components.schemas.UserProfile.properties.identities.items.properties.id, { type: 'string', format: 'uuid' })
})
