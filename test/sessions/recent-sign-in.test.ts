import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, PUBLIC_URL } from '../helpers/build-app.js'
import { Browser, parseSetCookies } from '../helpers/cookies.js'
import { browse, newBrowser, signInWithDev } from '../helpers/login.js'

// A stolen access cookie (15 minutes) must not become a permanent takeover: linking the thief's own
// provider account and unlinking the victim's need a sign-in as recent as deleting the account.

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const startLink = (app: App, browser: Browser) => browse(app, browser, '/auth/github/link', { method: 'POST' })
const unlink = (app: App, browser: Browser, id: string) => browse(app, browser, `/users/me/identities/${id}`, { method: 'DELETE' })

/** Starts a GitHub link, lets fake GitHub approve it, and answers the frontend's parameters. */
async function linkGitHub (app: App, browser: Browser): Promise<URLSearchParams> {
  const start = await startLink(app, browser)
  if (start.statusCode !== 200) throw new Error(start.body)
  const callbackUrl = new URL(String((await fetch(start.json().authorizationUrl, { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  return new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1))
}

/** A thief's browser holding only a copy of the victim's current access cookie. */
async function stealAccessCookie (victim: Browser): Promise<Browser> {
  const thief = newBrowser()
  await thief.jar.setCookie(`handoff_access=${await victim.cookie('handoff_access') as string}; Path=/; HttpOnly`, PUBLIC_URL)
  return thief
}

t.test('right after sign-in, a link starts and an identity unlinks', async t => {
  const { app, config } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'owner')
  const start = await startLink(app, browser)
  t.equal(start.statusCode, 200)
  t.ok(parseSetCookies(start).get(loginCookies(config, 'github').names.link)?.value, 'the link cookie is set')
  t.equal((await linkGitHub(app, browser)).get('linked'), 'github')
  const dev = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { provider: 'dev' } })
  t.equal((await unlink(app, browser, dev.id)).statusCode, 204)
  t.same((await app.handoff.db.prisma.identity.findMany()).map(identity => identity.provider), ['github'])
})

t.test('a stolen access cookie of a sign-in older than REAUTH_MAX_AGE_SECONDS: link and unlink answer 403 reauthentication_required and change nothing', async t => {
  const { app, clock, config } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const { names } = loginCookies(config, 'github')
  const victim = newBrowser()
  await signInWithDev(app, victim, 'victim')
  github.user = { ...github.user, id: 1_000_001, login: 'victim-gh' }
  t.teardown(() => { github.user = { ...github.user, id: 583231, login: 'octocat' } })
  t.equal((await linkGitHub(app, victim)).get('linked'), 'github', 'the victim has two ways in')
  const identities = await app.handoff.db.prisma.identity.findMany({ orderBy: { provider: 'asc' } })

  clock.advance(config.reauthMaxAgeSeconds + 1)
  // A refresh is not a sign-in: the fresh access cookie still carries the old sign-in's age.
  t.equal((await browse(app, victim, '/auth/refresh', { method: 'POST' })).statusCode, 200)
  const thief = await stealAccessCookie(victim)
  t.equal((await browse(app, thief, '/users/me')).statusCode, 200, 'the copied access cookie is valid')

  const link = await startLink(app, thief)
  t.equal(link.statusCode, 403)
  t.equal(link.json().code, 'reauthentication_required')
  t.match(link.json().message, /sign in again/i)
  t.notOk(link.headers['set-cookie'], 'no state, verifier or link cookie')
  t.notOk(parseSetCookies(link).get(names.link))

  for (const identity of identities) {
    const refused = await unlink(app, thief, identity.id)
    t.equal(refused.statusCode, 403, identity.provider)
    t.equal(refused.json().code, 'reauthentication_required', identity.provider)
  }
  t.equal((await unlink(app, thief, 'dev')).json().code, 'reauthentication_required', 'by provider name too')
  t.same(await app.handoff.db.prisma.identity.findMany({ orderBy: { provider: 'asc' } }), identities, 'every identity row intact')
  t.notOk((await app.handoff.db.prisma.session.findFirstOrThrow()).revokedAt, 'the session lives on')

  // The owner signs in again and may do both.
  await signInWithDev(app, victim, 'victim')
  t.equal((await startLink(app, victim)).statusCode, 200, 'a fresh sign-in starts a link')
  t.equal((await unlink(app, victim, identities[1].id)).statusCode, 204, 'and unlinks')
})

t.test('REAUTH_MAX_AGE_SECONDS sets the window for link and unlink; exactly that old still passes', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true', REAUTH_MAX_AGE_SECONDS: '60' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'owner')
  t.equal((await linkGitHub(app, browser)).get('linked'), 'github')
  const dev = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { provider: 'dev' } })
  clock.advance(61)
  t.equal((await startLink(app, browser)).json().code, 'reauthentication_required')
  t.equal((await unlink(app, browser, dev.id)).json().code, 'reauthentication_required')
  await signInWithDev(app, browser, 'owner')
  clock.advance(60)
  t.equal((await startLink(app, browser)).statusCode, 200)
  t.equal((await unlink(app, browser, dev.id)).statusCode, 204)
})

t.test('a revoked session: 401 not_authenticated before any age check', async t => {
  const { app, clock, config } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'owner')
  const dev = await app.handoff.db.prisma.identity.findFirstOrThrow()
  // Revoked by another instance: only the database knows yet.
  await app.handoff.db.sql.query('UPDATE sessions SET revoked_at = $1', [clock.now()])
  clock.advance(config.reauthMaxAgeSeconds + 1)
  const answers = { link: await startLink(app, browser), unlink: await unlink(app, browser, dev.id), delete: await browse(app, browser, '/users/me', { method: 'DELETE' }) }
  for (const [name, answer] of Object.entries(answers)) {
    t.equal(answer.statusCode, 401, name)
    t.equal(answer.json().code, 'not_authenticated', name)
  }
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('the OpenAPI document lists 403 reauthentication_required for link, unlink and account deletion', async t => {
  const { app } = await buildTestApp(t, github.env)
  const { paths } = (await app.inject('/docs/json')).json()
  for (const operation of [paths['/auth/{provider}/link'].post, paths['/users/me/identities/{id}'].delete, paths['/users/me'].delete]) {
    t.match(operation.description, /REAUTH_MAX_AGE_SECONDS/, operation.summary)
    t.match(operation.responses['403'].description, /reauthentication_required/, operation.summary)
  }
})
