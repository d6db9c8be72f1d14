import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import type { Browser } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** Signs up through the dev provider with an email GitHub does not know (so nothing links by email). */
async function signUpWithDev (app: App, browser: Browser, id: string): Promise<void> {
  const page = await browse(app, browser, '/auth/dev/login')
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const form = new URLSearchParams({ state, decision: 'allow', id, nickname: id, email: `${id}@dev.example`, emailVerified: 'on' }).toString()
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: id } })
  if (signup.statusCode !== 201) throw new Error(signup.body)
}

/** GET /auth/github/link → fake GitHub → our callback; returns the frontend's handoff parameters. */
async function linkGitHub (app: App, browser: Browser) {
  const start = await browse(app, browser, '/auth/github/link')
  if (start.statusCode !== 302) return { status: start.statusCode, params: new URLSearchParams() }
  const callbackUrl = new URL(String((await fetch(String(start.headers.location), { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const location = new URL(String(callback.headers.location))
  t.equal(location.origin + location.pathname, FRONTEND_URL)
  return { status: callback.statusCode, params: new URLSearchParams(location.hash.slice(1)) }
}

t.test('a signed-in user links GitHub, lists it, and unlinks it, but never the last identity', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signUpWithDev(app, browser, 'linker')
  const linked = await linkGitHub(app, browser)
  t.equal(linked.params.get('linked'), 'github')
  t.equal(linked.params.get('code'), null, 'a link hands out no login code')
  const me = (await browse(app, browser, '/users/me')).json().user
  t.same(me.identities.map((identity: { provider: string }) => identity.provider).sort(), ['dev', 'github'])
  t.equal(await app.db.prisma.user.count(), 1, 'no second account')

  // The next GitHub login signs in to the same account.
  const viaGitHub = await signIn(app, newBrowser())
  t.equal(viaGitHub.json().user.id, me.id)

  t.equal((await browse(app, browser, '/users/me/identities/dev', { method: 'DELETE' })).statusCode, 204)
  const last = await browse(app, browser, '/users/me/identities/github', { method: 'DELETE' })
  t.equal(last.statusCode, 409)
  t.equal(last.json().code, 'last_identity')
  t.equal((await browse(app, browser, '/users/me/identities/naver', { method: 'DELETE' })).json().code, 'identity_not_found')
  t.equal(await app.db.prisma.identity.count(), 1)
})

t.test('an identity that belongs to another account is not moved', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  await signIn(app, newBrowser())
  const browser = newBrowser()
  await signUpWithDev(app, browser, 'second')
  const linked = await linkGitHub(app, browser)
  t.equal(linked.params.get('error'), 'identity_in_use', linked.params.toString())
  const owner = await app.db.prisma.identity.findFirstOrThrow({ where: { provider: 'github' }, include: { user: true } })
  t.equal(owner.user.nickname, 'octocat', 'still its original owner')
})

t.test('linking needs a live session in this browser', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  t.equal((await linkGitHub(app, newBrowser())).status, 401, 'signed out: 401')

  const browser = newBrowser()
  await signUpWithDev(app, browser, 'revoked')
  const start = await browse(app, browser, '/auth/github/link')
  await app.db.sql.query('UPDATE sessions SET revoked_at = now()')
  const callbackUrl = new URL(String((await fetch(String(start.headers.location), { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  t.equal(new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('error'), 'link_session_invalid')
  t.equal(await app.db.prisma.identity.count({ where: { provider: 'github' } }), 0)
})
