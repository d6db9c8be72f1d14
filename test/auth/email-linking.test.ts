import t from 'tap'
import { startFakeApple } from '../fakes/apple.js'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeGoogle } from '../fakes/google.js'
import { buildTestApp } from '../helpers/build-app.js'
import { onPostgres } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// Linking by a verified email, attacked through real provider logins: the victim signs up with
// GitHub, the attacker signs in with a Google account whose verified address is crafted to match
// the victim's as a pattern. The address must be compared as an address (trimmed, lower-cased, `=`).

const github = await startFakeGitHub()
const google = await startFakeGoogle()
const apple = await startFakeApple()
t.teardown(() => Promise.all([github.close(), google.close(), apple.close()]))

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
const database = onPostgres ? 'PostgreSQL' : 'PGlite'

const githubEmail = (email: string) => [{ email, primary: true, verified: true, visibility: 'public' }]

/** The victim: a GitHub account, signed up, with this verified primary email. */
async function victimSignsUp (app: App, email: string): Promise<string> {
  github.emails = githubEmail(email)
  const signup = await signIn(app, newBrowser(), 'github', { nickname: 'victim' })
  return signup.json().user.id
}

let sub = 0
/** A Google login with this verified email, up to the exchange: where does it land? */
async function googleLogin (app: App, email: string, verified = true) {
  google.account = { sub: `1000${++sub}`, email, email_verified: verified, name: 'Mallory', given_name: 'Mallory', picture: 'https://lh3.googleusercontent.com/a/m' }
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'google')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  return exchange.json() as { status: string, user?: { id: string } }
}

t.test(`a new identity with a verified email links to the account with that verified email (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env })
  const owner = await victimSignsUp(app, 'shared@example.com')
  const linked = await googleLogin(app, 'SHARED@example.com')
  t.equal(linked.status, 'authenticated', 'verified + verified: signed in to the same account')
  t.equal(linked.user?.id, owner)
  t.equal(await app.handoff.db.prisma.identity.count({ where: { userId: owner } }), 2)

  t.equal((await googleLogin(app, 'shared@example.com', false)).status, 'signup_required', 'an unverified email never links')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { userId: owner } }), 2)
})

t.test('LINK_BY_VERIFIED_EMAIL=false turns linking off', async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env, LINK_BY_VERIFIED_EMAIL: 'false' })
  await victimSignsUp(app, 'shared@example.com')
  t.equal((await googleLogin(app, 'shared@example.com')).status, 'signup_required')
})

t.test(`a verified email with _, % or \\ is an address, not a pattern (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env })
  const victim = await victimSignsUp(app, 'kimchi99@naver.com')
  for (const crafted of ['kimch_99@naver.com', 'KIMCH_99@NAVER.COM', '%@naver.com', '%', 'kimchi99@naver.co_', 'kimch\\i99@naver.com', '_imchi99@naver.com ']) {
    const landed = await googleLogin(app, crafted)
    t.equal(landed.status, 'signup_required', `${crafted}: a signup, not the victim's account`)
    t.equal(landed.user, undefined, `${crafted}: no user`)
  }
  t.same((await app.handoff.db.prisma.identity.findMany({ where: { userId: victim }, select: { provider: true } })).map(row => row.provider), ['github'], 'nothing was linked to the victim')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { provider: 'google' } }), 0)
  t.equal(await app.handoff.db.prisma.user.count(), 1)
})

t.test(`an address stored with a pattern character matches only itself (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env })
  const victim = await victimSignsUp(app, 'kim_chi%99@naver.com')
  t.equal((await googleLogin(app, 'kimXchiAB99@naver.com')).status, 'signup_required', 'the stored address is not a pattern either')
  const owner = await googleLogin(app, 'Kim_Chi%99@naver.com')
  t.equal(owner.status, 'authenticated', 'the same address links')
  t.equal(owner.user?.id, victim)
})

t.test(`the same address in another case or with surrounding whitespace links to its owner (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env })
  const owner = await victimSignsUp(app, ' Gildong.Hong@Example.com\t')
  const landed = await googleLogin(app, 'gildong.hong@EXAMPLE.COM\r\n')
  t.equal(landed.status, 'authenticated', 'signed in, no signup')
  t.equal(landed.user?.id, owner, 'to the account that owns the address')
  t.same((await app.handoff.db.prisma.identity.findMany({ where: { userId: owner }, select: { provider: true }, orderBy: { createdAt: 'asc' } })).map(row => row.provider).sort(), ['github', 'google'])
  const rows = await app.handoff.db.sql.query<{ email_normalized: string }>('SELECT email_normalized FROM identities ORDER BY provider')
  t.same(rows.map(row => row.email_normalized), ['gildong.hong@example.com', 'gildong.hong@example.com'], 'the database normalizes both the same way')

  t.equal((await googleLogin(app, 'gildong.hong+tag@example.com')).status, 'signup_required', 'a +tag is another address')
  t.equal((await googleLogin(app, 'gildonghong@example.com')).status, 'signup_required', 'dots are not removed')
})

t.test(`the account's own email (once its identity's changed) links exactly too (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...google.env })
  const owner = await victimSignsUp(app, 'oldaddress@example.com')
  // The GitHub identity now says another address; the user row keeps the one it signed up with.
  github.emails = githubEmail('new@example.com')
  t.equal((await signIn(app, newBrowser(), 'github')).json().user.id, owner)
  t.match(await app.handoff.db.prisma.user.findUniqueOrThrow({ where: { id: owner } }), { email: 'oldaddress@example.com', emailVerified: true })

  t.equal((await googleLogin(app, 'old_ddress@example.com')).status, 'signup_required', 'a pattern does not match the user row')
  t.equal((await googleLogin(app, 'old%@example.com')).status, 'signup_required')
  const linked = await googleLogin(app, ' OldAddress@example.COM ')
  t.equal(linked.status, 'authenticated')
  t.equal(linked.user?.id, owner, 'the exact address, through the user row')
})

let appleSub = 0
/** An Apple login with this address, verified by Apple, private relay or not, up to the exchange. */
async function appleLogin (app: App, email: string, relay: boolean) {
  apple.account = { sub: `00${++appleSub}.apple.0001`, email, email_verified: 'true', is_private_email: relay ? 'true' : 'false', firstName: 'Mallory' }
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'apple')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  return exchange.json() as { status: string, user?: { id: string } }
}

t.test(`an Apple private relay address equal to an account's verified email does not link (${database})`, async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...apple.env })
  const relayAddress = 'x7pq2kzd4m@privaterelay.appleid.com'
  const victim = await victimSignsUp(app, relayAddress)
  const landed = await appleLogin(app, relayAddress, true)
  t.equal(landed.status, 'signup_required', 'a signup, not the victim\'s account')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { userId: victim } }), 1, 'nothing was linked to the victim')
  // Flagged by its domain alone, too: Apple's is_private_email may be missing.
  const byDomain = await appleLogin(app, relayAddress.toUpperCase(), false)
  t.equal(byDomain.status, 'signup_required', 'the relay domain never links, whatever is_private_email says')

  // The control: the victim's GitHub now says a real address, and Apple vouches for it.
  github.emails = githubEmail('owner@example.com')
  t.equal((await signIn(app, newBrowser(), 'github')).json().user.id, victim)
  const linked = await appleLogin(app, 'owner@example.com', false)
  t.equal(linked.status, 'authenticated', 'a real address Apple verified links as any verified address does')
  t.equal(linked.user?.id, victim)
})
