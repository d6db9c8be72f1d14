import { setTimeout } from 'node:timers/promises'
import t from 'tap'
import type { IdentityUnlinkedEvent } from '../../src/lifecycle-hooks.js'
import { startFakeApple, type AppleEvent } from '../fakes/apple.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import type { Browser } from '../helpers/cookies.js'
import { onPostgres } from '../helpers/database.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

// Apple's server-to-server notifications, signed by the fake Apple as Apple signs them, posted to
// POST /auth/apple/notifications: what each event type does to the identity, its sessions and the
// account, that a duplicate or a late one changes nothing, and that nothing unsigned gets through.

const database = onPostgres ? 'PostgreSQL' : 'PGlite'
const apple = await startFakeApple()
const github = await startFakeGitHub()
t.teardown(() => Promise.all([apple.close(), github.close()]))
t.beforeEach(() => {
  apple.account = { sub: '001234.5b3a3bdf9c0b4f049c1471cae1cd1d8d.0001', email: 'x7pq2kzd4m@privaterelay.appleid.com', email_verified: 'true', is_private_email: 'true', firstName: 'Gildong', lastName: 'Hong' }
  apple.jwks = 'ok'
})

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const notify = (app: App, payload: unknown) => app.inject({ method: 'POST', url: '/auth/apple/notifications', payload: { payload } })
const event = (type: string, extra: Partial<AppleEvent> = {}): AppleEvent => ({ type, sub: apple.account.sub, ...extra })
const signedIn = async (app: App, browser: Browser) => (await browse(app, browser, '/auth/me')).statusCode === 200
const appleIdentity = (app: App) => app.handoff.db.prisma.identity.findFirst({ where: { provider: 'apple' } })

/** A person who signed up with Apple (and is signed in, in `browser`). */
async function appleUser (app: App, browser = newBrowser()) {
  const signup = await signIn(app, browser, 'apple', { nickname: 'gildong' })
  return { browser, userId: signup.json().user.id as string }
}

t.test(`consent-revoked (events as a JSON string): the identity goes, its sessions end, the last one deletes the account (${database})`, async t => {
  const unlinked: IdentityUnlinkedEvent[] = []
  const { app, logs, rawLogs } = await buildTestApp(t, apple.env, { logs: true, hooks: { onIdentityUnlinked: event => { unlinked.push(event) } } })
  const { browser, userId } = await appleUser(app)
  t.ok(await signedIn(app, browser))

  const response = await notify(app, await apple.signNotification(event('consent-revoked')))
  t.equal(response.statusCode, 200)
  t.equal(response.body, '')
  t.equal(await appleIdentity(app), null, 'the Apple identity is gone')
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'it was the last way in: the account is deleted (ON_LAST_IDENTITY_UNLINKED=delete)')
  t.notOk(await signedIn(app, browser), 'its access cookie is refused at once')
  t.match(unlinked, [{ userId, identity: { provider: 'apple', providerUserId: apple.account.sub } }])
  t.match(logs.filter(line => line.msg?.toString().startsWith('apple notification')), [{ provider: 'apple', event: 'consent-revoked', outcome: 'identity removed, account deleted' }])
  t.notMatch(rawLogs(), 'privaterelay', 'no email in the log')
})

for (const type of ['account-delete', 'account-deleted']) {
  t.test(`${type} (events as an object): with another way to sign in, only the Apple identity and its sessions go (${database})`, async t => {
    const { app } = await buildTestApp(t, { ...apple.env, ...github.env })
    const { browser: appleBrowser, userId } = await appleUser(app)
    // The same account also signs in with GitHub, in another browser (linked by hand here).
    await app.handoff.db.sql.query('INSERT INTO identities (user_id, provider, provider_user_id, created_at) VALUES ($1, $2, $3, $4)', [userId, 'github', '583231', app.handoff.clock.now()])
    const githubBrowser = newBrowser()
    t.equal((await signIn(app, githubBrowser)).json().user.id, userId)

    const response = await notify(app, await apple.signNotification(event(type), { eventsAsObject: true }))
    t.equal(response.statusCode, 200)
    t.equal(await appleIdentity(app), null)
    t.equal(await app.handoff.db.prisma.user.count(), 1, 'the account stays')
    t.notOk(await signedIn(app, appleBrowser), 'the session Apple opened ends')
    t.ok(await signedIn(app, githubBrowser), 'the GitHub session goes on')
  })
}

t.test('ON_LAST_IDENTITY_UNLINKED=keep: the account stays, signed out everywhere', async t => {
  const { app } = await buildTestApp(t, { ...apple.env, ON_LAST_IDENTITY_UNLINKED: 'keep' })
  const { browser } = await appleUser(app)
  t.equal((await notify(app, await apple.signNotification(event('consent-revoked')))).statusCode, 200)
  t.equal(await app.handoff.db.prisma.user.count(), 1)
  t.equal(await app.handoff.db.prisma.identity.count(), 0)
  t.notOk(await signedIn(app, browser))
})

t.test(`a duplicate delivery changes nothing the second time; an unknown person is a 200 too (${database})`, async t => {
  const { app } = await buildTestApp(t, apple.env)
  await appleUser(app)
  const payload = await apple.signNotification(event('consent-revoked'))
  t.equal((await notify(app, payload)).statusCode, 200)
  t.equal((await notify(app, payload)).statusCode, 200, 'the same notification again')
  t.equal((await notify(app, await apple.signNotification(event('consent-revoked', { sub: '000999.unknown.0001' })))).statusCode, 200)
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('an unlink event older than the identity\'s last sign-in is ignored: the person came back', async t => {
  const { app, clock } = await buildTestApp(t, apple.env)
  await appleUser(app)
  // Seconds, as in Apple's example; an hour before the sign-in.
  const before = Math.floor(clock.now().getTime() / 1000) - 3600
  t.equal((await notify(app, await apple.signNotification(event('consent-revoked', { event_time: before })))).statusCode, 200)
  t.ok(await appleIdentity(app), 'the identity stays')
  const after = clock.now().getTime() + 60_000 // milliseconds, as in real deliveries
  t.equal((await notify(app, await apple.signNotification(event('consent-revoked', { event_time: after })))).statusCode, 200)
  t.equal(await appleIdentity(app), null, 'a later one removes it')
})

t.test(`email-disabled / email-enabled set emailForwarding; a login does not turn it back on (${database})`, async t => {
  const { app } = await buildTestApp(t, apple.env)
  const { browser } = await appleUser(app)
  const identityOf = async () => (await browse(app, browser, '/users/me')).json().user.identities[0]
  t.match(await identityOf(), { provider: 'apple', email: 'x7pq2kzd4m@privaterelay.appleid.com', emailVerified: true, emailPrivate: true, emailForwarding: true })

  const disabled = event('email-disabled', { email: 'x7pq2kzd4m@privaterelay.appleid.com', is_private_email: 'true' })
  t.equal((await notify(app, await apple.signNotification(disabled))).statusCode, 200)
  t.match(await identityOf(), { emailPrivate: true, emailForwarding: false })
  t.equal((await notify(app, await apple.signNotification(disabled))).statusCode, 200, 'twice: the same')
  t.match(await identityOf(), { emailForwarding: false })

  await signIn(app, browser, 'apple')
  t.match(await identityOf(), { emailForwarding: false }, 'the id_token says nothing of forwarding: the next login keeps it off')

  t.equal((await notify(app, await apple.signNotification(event('email-enabled', { email: 'x7pq2kzd4m@privaterelay.appleid.com', is_private_email: true })))).statusCode, 200)
  t.match(await identityOf(), { emailForwarding: true })
})

t.test(`an email event older than the last one applied, late or replayed, changes nothing (${database})`, async t => {
  const { app, logs } = await buildTestApp(t, apple.env, { logs: true })
  await appleUser(app)
  const forwarding = async () => (await appleIdentity(app))?.emailForwarding
  const now = Date.now()
  const oldDisabled = await apple.signNotification(event('email-disabled', { event_time: now - 3_600_000 }))
  t.equal((await notify(app, oldDisabled)).statusCode, 200)
  t.equal(await forwarding(), false)
  t.equal((await notify(app, await apple.signNotification(event('email-enabled', { event_time: now - 60_000 })))).statusCode, 200)
  t.equal(await forwarding(), true)

  t.equal((await notify(app, oldDisabled)).statusCode, 200, 'the captured email-disabled, replayed')
  t.equal(await forwarding(), true, 'forwarding stays on: the replay is older than the email-enabled')
  // Seconds, as in Apple's example, still ordered against the milliseconds of the one before.
  t.equal((await notify(app, await apple.signNotification(event('email-disabled', { event_time: Math.floor(now / 1000) - 600 })))).statusCode, 200)
  t.equal(await forwarding(), true, 'a late one from ten minutes ago too')
  t.equal((await notify(app, await apple.signNotification(event('email-disabled', { event_time: now })))).statusCode, 200)
  t.equal(await forwarding(), false, 'a newer one applies')
  t.same(logs.filter(line => line.msg?.toString().startsWith('apple notification')).map(line => line.outcome),
    ['email forwarding off', 'email forwarding on', 'ignored: a later email event was applied already', 'ignored: a later email event was applied already', 'email forwarding off'])
})

t.test('an event type handoff does not act on: 200, nothing changed', async t => {
  const { app } = await buildTestApp(t, apple.env)
  await appleUser(app)
  t.equal((await notify(app, await apple.signNotification(event('some-future-event')))).statusCode, 200)
  t.ok(await appleIdentity(app))
})

t.test('a notification for one of APPLE_APP_IDS (a bundle id) is accepted', async t => {
  const { app } = await buildTestApp(t, { ...apple.env, APPLE_APP_IDS: 'com.example.ios' })
  await appleUser(app)
  t.equal((await notify(app, await apple.signNotification(event('email-disabled'), { aud: 'com.example.ios' }))).statusCode, 200)
  t.equal((await appleIdentity(app))?.emailForwarding, false)
})

const forgeries: Array<[string, () => Promise<unknown>, number, string]> = [
  ['signed by a key not in Apple\'s JWKS', () => apple.signNotification(event('consent-revoked'), { key: 'stranger' }), 401, 'unlink_unauthorized'],
  ['for another client id', () => apple.signNotification(event('consent-revoked'), { aud: 'com.someone.else' }), 401, 'unlink_unauthorized'],
  ['from another issuer', () => apple.signNotification(event('consent-revoked'), { iss: 'https://evil.example' }), 401, 'unlink_unauthorized'],
  ['that is not a JWT', async () => 'not-a-jwt', 401, 'unlink_unauthorized'],
  ['whose signature is cut off', async () => (await apple.signNotification(event('consent-revoked'))).split('.').slice(0, 2).join('.') + '.', 401, 'unlink_unauthorized'],
  ['whose events are not JSON', () => apple.signNotification(event('consent-revoked'), { eventsOverride: '{not json' }), 400, 'unlink_request_invalid'],
  ['whose events have no sub', () => apple.signNotification({ type: 'consent-revoked', sub: '' }), 400, 'unlink_request_invalid'],
  ['whose payload is not a string', async () => ({ events: 'consent-revoked' }), 400, 'invalid_request']
]
for (const [what, payload, status, code] of forgeries) {
  t.test(`a notification ${what}: ${status} ${code}, nothing changed`, async t => {
    const { app, logs } = await buildTestApp(t, apple.env, { logs: true })
    await appleUser(app)
    const response = await notify(app, await payload())
    t.equal(response.statusCode, status)
    t.equal(response.json().code, code)
    t.ok(await appleIdentity(app), 'the identity stays')
    t.equal(await app.handoff.db.prisma.user.count(), 1)
    if (status === 401) t.match(logs.filter(line => line.msg === 'apple notification refused'), [{ level: 40, provider: 'apple' }], 'a warning: a wrong APPLE_CLIENT_ID would refuse every real one')
  })
}

t.test('Apple\'s keys out of reach: 504 provider_timeout, or 502 provider_error when they are garbage; nothing changed', async t => {
  const { app } = await buildTestApp(t, { ...apple.env, PROVIDER_TIMEOUT_MS: '300' })
  await appleUser(app)
  apple.jwks = 'hang'
  const timedOut = await notify(app, await apple.signNotification(event('consent-revoked')))
  t.equal(timedOut.statusCode, 504)
  t.equal(timedOut.json().code, 'provider_timeout')
  apple.jwks = 'garbage'
  await setTimeout(1100) // past jose's refetch cooldown
  const garbage = await notify(app, await apple.signNotification(event('consent-revoked')))
  t.equal(garbage.statusCode, 502)
  t.equal(garbage.json().code, 'provider_error')
  t.ok(await appleIdentity(app), 'the identity stays')
})
