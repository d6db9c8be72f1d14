import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import type { IdentityLinkedEvent } from '../../src/lifecycle-hooks.js'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeGoogle } from '../fakes/google.js'
import { buildTestApp, FRONTEND_URL, PUBLIC_URL } from '../helpers/build-app.js'
import { parseSetCookies, type Browser } from '../helpers/cookies.js'
import { browse, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

const github = await startFakeGitHub()
const google = await startFakeGoogle()
t.teardown(() => Promise.all([github.close(), google.close()]))

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** The session id inside this browser's access cookie. */
async function sessionOf (browser: Browser): Promise<string> {
  const token = await browser.cookie('handoff_access') as string
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid
}

/** POST /auth/github/link as the SPA sends it (browse adds X-Requested-With). */
const startLink = (app: App, browser: Browser, init: { payload?: unknown, query?: string } = {}) =>
  browse(app, browser, `/auth/github/link${init.query ?? ''}`, { method: 'POST', payload: init.payload })

/** The browser navigates to the authorize URL, fake GitHub approves, our callback answers: the frontend's parameters. */
async function finishAtProvider (app: App, browser: Browser, authorizationUrl: string): Promise<URLSearchParams> {
  const callbackUrl = new URL(String((await fetch(authorizationUrl, { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  t.equal(callback.statusCode, 302)
  const location = new URL(String(callback.headers.location))
  t.equal(location.origin + location.pathname, FRONTEND_URL)
  return new URLSearchParams(location.hash.slice(1))
}

/** POST /auth/github/link → fake GitHub → our callback; returns the frontend's handoff parameters. */
async function linkGitHub (app: App, browser: Browser, init: { payload?: unknown, query?: string } = {}) {
  const start = await startLink(app, browser, init)
  if (start.statusCode !== 200) return { status: start.statusCode, params: new URLSearchParams() }
  return { status: start.statusCode, params: await finishAtProvider(app, browser, start.json().authorizationUrl) }
}

const githubLinks = (app: App) => app.handoff.db.prisma.identity.count({ where: { provider: 'github' } })

t.test('a signed-in user links GitHub, lists it, and unlinks it, but never the last identity', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  const linked = await linkGitHub(app, browser)
  t.equal(linked.params.get('linked'), 'github')
  t.equal(linked.params.get('code'), null, 'a link hands out no login code')
  const me = (await browse(app, browser, '/users/me')).json().user
  t.same(me.identities.map((identity: { provider: string }) => identity.provider).sort(), ['dev', 'github'])
  t.equal(await app.handoff.db.prisma.user.count(), 1, 'no second account')

  // The next GitHub login signs in to the same account.
  const viaGitHub = await signIn(app, newBrowser())
  t.equal(viaGitHub.json().user.id, me.id)

  t.equal((await browse(app, browser, '/users/me/identities/dev', { method: 'DELETE' })).statusCode, 204)
  const last = await browse(app, browser, '/users/me/identities/github', { method: 'DELETE' })
  t.equal(last.statusCode, 409)
  t.equal(last.json().code, 'last_identity')
  t.equal((await browse(app, browser, '/users/me/identities/naver', { method: 'DELETE' })).json().code, 'identity_not_found')
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('POST /auth/:provider/link answers the authorize URL and sets the dance cookies for the callback only', async t => {
  const { app, config } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const { names } = loginCookies(config, 'github')
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  const start = await startLink(app, browser, { payload: { returnTo: '/settings' } })
  t.equal(start.statusCode, 200)
  t.same(Object.keys(start.json()), ['authorizationUrl'])
  const authorize = new URL(start.json().authorizationUrl)
  t.equal(authorize.origin + authorize.pathname, `${github.webUrl}/login/oauth/authorize`)
  t.equal(authorize.searchParams.get('redirect_uri'), `${PUBLIC_URL}/auth/github/callback`)
  t.equal(start.headers.location, undefined, 'no redirect: the SPA navigates itself')
  const cookies = parseSetCookies(start)
  for (const name of [names.state, names.link, names.returnTo]) {
    t.equal(cookies.get(name)?.attributes.get('path'), '/auth/github/callback', `${name} goes back to the callback only`)
    t.ok(cookies.get(name)?.attributes.has('httponly'), `${name} is HttpOnly`)
  }
  t.equal(cookies.get(names.state)?.value, authorize.searchParams.get('state'))
  t.equal(cookies.get(names.link)?.value, await sessionOf(browser))

  const params = await finishAtProvider(app, browser, start.json().authorizationUrl)
  t.equal(params.get('linked'), 'github')
  t.equal(params.get('returnTo'), '/settings', 'returnTo from the body comes back')

  github.user = { ...github.user, id: 1_000_001, login: 'octo-work' }
  t.teardown(() => { github.user = { ...github.user, id: 583231, login: 'octocat' } })
  const viaQuery = await linkGitHub(app, browser, { query: '?returnTo=/account' })
  t.equal(viaQuery.params.get('linked'), 'github', 'a second GitHub account links too')
  t.equal(viaQuery.params.get('returnTo'), '/account', 'returnTo from the query comes back')
  t.equal(await githubLinks(app), 2)

  const unknown = await browse(app, browser, '/auth/nowhere/link', { method: 'POST' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'provider_not_found')
  t.notOk(unknown.headers['set-cookie'], 'no cookies for an unknown provider')
  const signedOut = await startLink(app, newBrowser())
  t.equal(signedOut.statusCode, 401)
  t.equal(signedOut.json().code, 'not_authenticated')
  t.notOk(signedOut.headers['set-cookie'], 'no cookies signed out')
  t.equal((await startLink(app, browser, { payload: { returnTo: 5, extra: true } })).json().code, 'invalid_request')
})

t.test('a cross-site GET navigation no longer starts a link', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'victim')
  // A link on another site: SameSite=Lax sends the cookies with this top-level navigation.
  const navigation = await app.inject({
    method: 'GET',
    url: '/auth/github/link',
    headers: { cookie: await browser.cookieHeader('/auth/github/link'), referer: 'https://evil.test/', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }
  })
  t.equal(navigation.statusCode, 404)
  t.equal(navigation.json().code, 'not_found')
  t.equal(navigation.headers.location, undefined, 'not sent to the provider')
  t.notOk(navigation.headers['set-cookie'], 'no state or link cookie')
})

t.test('POST /auth/:provider/link without X-Requested-With or from a foreign origin: 403 csrf_rejected, no cookies', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'victim')
  const cookie = await browser.cookieHeader('/auth/github/link')
  const attempts: Array<[string, Record<string, string>]> = [
    ['a form posted from another site', { origin: 'https://evil.test', 'content-type': 'application/x-www-form-urlencoded' }],
    ['no X-Requested-With', {}],
    ['a foreign Origin', { 'x-requested-with': 'fetch', origin: 'https://evil.test' }],
    ['a foreign Referer', { 'x-requested-with': 'fetch', referer: 'https://evil.test/page' }]
  ]
  for (const [name, headers] of attempts) {
    const refused = await app.inject({ method: 'POST', url: '/auth/github/link', headers: { cookie, ...headers }, ...(headers['content-type'] === undefined ? {} : { payload: 'returnTo=/' }) })
    t.equal(refused.statusCode, 403, name)
    t.equal(refused.json().code, 'csrf_rejected', name)
    t.notOk(refused.headers['set-cookie'], `${name}: no cookies`)
  }
  const fromFrontend = await app.inject({ method: 'POST', url: '/auth/github/link', headers: { cookie, 'x-requested-with': 'fetch', origin: new URL(FRONTEND_URL).origin } })
  t.equal(fromFrontend.statusCode, 200, 'the frontend\'s own origin is let through')
})

t.test('an identity that belongs to another account is not moved', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  await signIn(app, newBrowser())
  const browser = newBrowser()
  await signInWithDev(app, browser, 'second')
  const linked = await linkGitHub(app, browser)
  t.equal(linked.params.get('error'), 'identity_in_use', linked.params.toString())
  const owner = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { provider: 'github' }, include: { user: true } })
  t.equal(owner.user.nickname, 'octocat', 'still its original owner')
})

t.test('linking needs a live session in this browser', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  t.equal((await linkGitHub(app, newBrowser())).status, 401, 'signed out: 401')

  const browser = newBrowser()
  await signInWithDev(app, browser, 'revoked')
  const start = await startLink(app, browser)
  await app.handoff.db.sql.query('UPDATE sessions SET revoked_at = now()')
  const params = await finishAtProvider(app, browser, start.json().authorizationUrl)
  t.equal(params.get('error'), 'link_session_invalid')
  t.equal(await githubLinks(app), 0)
})

t.test('the session that started the link must still be live at the callback, not just any session of the user', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  // The same person is signed in elsewhere: that session stays live throughout.
  const elsewhere = newBrowser()
  await signInWithDev(app, elsewhere, 'linker')

  t.test('logged out, its access cookie cleared', async t => {
    const start = await startLink(app, browser)
    t.equal((await browse(app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
    t.equal((await finishAtProvider(app, browser, start.json().authorizationUrl)).get('error'), 'link_session_invalid')
    t.equal(await githubLinks(app), 0, 'no identity row')
    await signInWithDev(app, browser, 'linker')
  })

  t.test('logged out, a copy of its unexpired access cookie presented', async t => {
    const start = await startLink(app, browser)
    const copied = await browser.cookie('handoff_access')
    t.equal((await browse(app, browser, '/auth/logout', { method: 'POST' })).statusCode, 204)
    await browser.jar.setCookie(`handoff_access=${copied}; Path=/; HttpOnly`, PUBLIC_URL)
    t.equal((await finishAtProvider(app, browser, start.json().authorizationUrl)).get('error'), 'link_session_invalid')
    t.equal(await githubLinks(app), 0, 'no identity row')
    await signInWithDev(app, browser, 'linker')
  })

  t.test('revoked from the other device', async t => {
    const start = await startLink(app, browser)
    const revoked = await browse(app, elsewhere, `/auth/sessions/${await sessionOf(browser)}`, { method: 'DELETE' })
    t.equal(revoked.statusCode, 204)
    t.equal((await finishAtProvider(app, browser, start.json().authorizationUrl)).get('error'), 'link_session_invalid')
    t.equal(await githubLinks(app), 0, 'no identity row')
    await signInWithDev(app, browser, 'linker')
  })

  t.test('expired', async t => {
    const start = await startLink(app, browser)
    await app.handoff.db.sql.query('UPDATE sessions SET expires_at = $2 WHERE id = $1', [await sessionOf(browser), new Date(clock.now().getTime() - 1000)])
    t.equal((await finishAtProvider(app, browser, start.json().authorizationUrl)).get('error'), 'link_session_invalid')
    t.equal(await githubLinks(app), 0, 'no identity row')
    await signInWithDev(app, browser, 'linker')
  })

  t.test('started by session A, the browser now holds session B', async t => {
    const start = await startLink(app, browser)
    const sessionA = await sessionOf(browser)
    await signInWithDev(app, browser, 'linker')
    t.not(await sessionOf(browser), sessionA, 'a new session in this browser')
    t.equal((await finishAtProvider(app, browser, start.json().authorizationUrl)).get('error'), 'link_session_invalid')
    t.equal(await githubLinks(app), 0, 'no identity row')
  })

  t.test('and a live session still links', async t => {
    t.equal((await linkGitHub(app, browser)).params.get('linked'), 'github')
    t.equal(await githubLinks(app), 1)
  })
})

t.test('a link fires onIdentityLinked and logs one line, without email or token', async t => {
  const linked: IdentityLinkedEvent[] = []
  const { app, logs, rawLogs } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' }, { logs: true, hooks: { onIdentityLinked: event => { linked.push(event) } } })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  t.same(linked, [], 'a signup links nothing')
  t.equal((await linkGitHub(app, browser)).params.get('linked'), 'github')

  const identity = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { provider: 'github' } })
  const sessionId = await sessionOf(browser)
  t.equal(linked.length, 1)
  const { request, ...event } = linked[0]
  t.same(event, { userId: identity.userId, identity: { id: identity.id, provider: 'github', providerUserId: '583231' }, method: 'link', sessionId })
  t.ok(request.id, 'with the request')

  const lines = logs.filter(line => line.msg === 'identity linked')
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 30, userId: identity.userId, sessionId, provider: 'github', identityId: identity.id, method: 'link' })
  t.notMatch(rawLogs(), 'octocat@github.com', 'no email in the log')
  t.notMatch(rawLogs(), await browser.cookie('handoff_access') as string, 'no token in the log')
})

t.test('a login joined to an account by a verified email fires onIdentityLinked (verified_email)', async t => {
  const linked: IdentityLinkedEvent[] = []
  const { app, logs, rawLogs } = await buildTestApp(t, { ...github.env, ...google.env }, { logs: true, hooks: { onIdentityLinked: event => { linked.push(event) } } })
  // A Google account with GitHub's verified primary address: the GitHub login joins it. (Not the dev
  // provider: its typed email never links.)
  const account = google.account
  google.account = { ...account, email: 'octocat@github.com', email_verified: true }
  t.teardown(() => { google.account = account })
  const user = (await signIn(app, newBrowser(), 'google', { nickname: 'owner' })).json().user
  t.same(linked, [], 'a signup links nothing')

  t.equal((await signIn(app, newBrowser())).json().user.id, user.id, 'GitHub signed in to the same account')
  const identity = await app.handoff.db.prisma.identity.findFirstOrThrow({ where: { provider: 'github' } })
  t.equal(linked.length, 1)
  const { request, ...event } = linked[0]
  t.same(event, { userId: user.id, identity: { id: identity.id, provider: 'github', providerUserId: '583231' }, method: 'verified_email' }, 'no session yet')
  t.ok(request.id)
  t.match(logs.filter(line => line.msg === 'identity linked'), [{ level: 30, userId: user.id, provider: 'github', identityId: identity.id, method: 'verified_email' }])
  t.notMatch(rawLogs(), 'octocat@github.com', 'no email in the log')

  await signIn(app, newBrowser())
  t.equal(linked.length, 1, 'a returning login links nothing')
})

t.test('the OpenAPI document shows the link as a POST with every status', async t => {
  const { app } = await buildTestApp(t, github.env)
  const path = (await app.inject('/docs/json')).json().paths['/auth/{provider}/link']
  t.same(Object.keys(path), ['post'])
  t.same(Object.keys(path.post.responses).sort(), ['200', '400', '401', '403', '404', '429'])
  t.match(path.post.description, /csrf_rejected/)
  t.match(path.post.description, /link_session_invalid/)
})
