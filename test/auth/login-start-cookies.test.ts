import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies, type Browser } from '../helpers/cookies.js'
import { browse, loginThroughProvider, newBrowser, signInWithDev } from '../helpers/login.js'

// Every start of a login or a link replaces the whole set of this provider's login cookies: what an
// earlier, abandoned start left in the browser (for up to 10 minutes) must not steer this one.

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** The dev provider's form, submitted: the frontend's parameters. */
async function devLogin (app: App, browser: Browser, query = ''): Promise<URLSearchParams> {
  const page = await browse(app, browser, `/auth/dev/login${query}`)
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const form = new URLSearchParams({ state, decision: 'allow', id: 'dev-1', nickname: 'dev1' }).toString()
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  return new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1))
}

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

t.test('a plain login after an abandoned link signs in: it does not link', async t => {
  const { app, config } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const { names } = loginCookies(config, 'github')
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  const abandoned = await browse(app, browser, '/auth/github/link', { method: 'POST', payload: { returnTo: '/settings' } })
  t.equal(abandoned.statusCode, 200, 'a link started, never finished')
  t.ok(await browser.cookie(names.link, '/auth/github/callback'), 'its link cookie is in the browser')

  const login = await loginThroughProvider(app, browser, 'github')
  t.equal(login.params.get('linked'), null, 'not a link')
  t.equal(login.params.get('error'), null, 'not link_session_invalid either')
  t.equal(login.params.get('returnTo'), null, 'not the abandoned link\'s return path')
  const code = login.params.get('code')
  t.ok(code, 'a one-time code')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  t.equal(exchange.statusCode, 200)
  t.equal(exchange.json().status, 'signup_required', 'the GitHub account signs up on its own')
  t.equal(await app.handoff.db.prisma.identity.count({ where: { provider: 'github' } }), 0, 'nothing linked to the signed-in account')
})

t.test('a plain login start clears the link, challenge and return-path cookies it does not set', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const { names } = loginCookies(config, 'github')
  const start = await browse(app, newBrowser(), '/auth/github/login')
  const cookies = parseSetCookies(start)
  for (const name of [names.link, names.challenge, names.returnTo]) {
    t.equal(cookies.get(name)?.value, '', `${name} cleared`)
    t.equal(cookies.get(name)?.attributes.get('path'), '/auth/github/callback', `${name} cleared on the path it was set with`)
  }
  t.ok(cookies.get(names.state)?.value, 'the state is set')
})

t.test('a login with code_challenge, abandoned, then one without: the second code exchanges with the binding cookie', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  t.equal((await browse(app, browser, `/auth/github/login?code_challenge=${CHALLENGE}`)).statusCode, 302, 'abandoned at the provider')
  const login = await loginThroughProvider(app, browser, 'github')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: login.params.get('code') } })
  t.equal(exchange.statusCode, 200, exchange.body)
  t.equal(exchange.json().status, 'signup_required')

  // The dev provider's start does the same.
  const dev = newBrowser()
  t.equal((await browse(app, dev, `/auth/dev/login?code_challenge=${CHALLENGE}&returnTo=%2Fold`)).statusCode, 200, 'abandoned on the form')
  const params = await devLogin(app, dev)
  t.equal(params.get('returnTo'), null, 'not the abandoned return path')
  const devExchange = await browse(app, dev, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(devExchange.statusCode, 200, devExchange.body)
})

t.test('a link after an abandoned login with code_challenge: the link still links', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  await browse(app, browser, `/auth/github/login?code_challenge=${CHALLENGE}&returnTo=%2Fold`)
  const start = await browse(app, browser, '/auth/github/link', { method: 'POST' })
  t.equal(start.statusCode, 200)
  const callbackUrl = new URL(String((await fetch(start.json().authorizationUrl, { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const params = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1))
  t.equal(params.get('linked'), 'github')
  t.equal(params.get('returnTo'), null, 'not the abandoned login\'s return path')
})
