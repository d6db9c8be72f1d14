import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { buildTestApp } from '../helpers/build-app.js'
import type { Browser } from '../helpers/cookies.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

// "Logout with the Kakao account" (카카오계정과 함께 로그아웃): POST /auth/logout?withProvider=true
// answers Kakao's logout page for a session opened through Kakao, so a shared computer does not
// stay signed in at Kakao.

const kakao = await startFakeKakao()
const github = await startFakeGitHub()
t.teardown(() => Promise.all([kakao.close(), github.close()]))

const LOGOUT_REDIRECT = 'https://frontend.test/signed-out'
const env = { ...kakao.env, ...github.env, KAKAO_LOGOUT_REDIRECT_URI: LOGOUT_REDIRECT }

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
const logout = (app: App, browser: Browser, query = '?withProvider=true') => browse(app, browser, `/auth/logout${query}`, { method: 'POST' })

t.test('a session opened through Kakao: 200 with Kakao\'s logout URL (no token in it), the session ended, the cookies cleared', async t => {
  const { app } = await buildTestApp(t, env)
  const browser = newBrowser()
  await signIn(app, browser, 'kakao')
  const response = await logout(app, browser)
  t.equal(response.statusCode, 200)
  const url = new URL(response.json().providerLogoutUrl)
  t.equal(url.origin + url.pathname, `${kakao.authUrl}/oauth/logout`)
  t.same(Object.fromEntries(url.searchParams), { client_id: kakao.clientId, logout_redirect_uri: LOGOUT_REDIRECT }, 'the public REST key and our URI, nothing else')
  t.match(String(response.headers['set-cookie']), /handoff_access=;/, 'cookies cleared')
  t.equal((await browse(app, browser, '/auth/me')).statusCode, 401, 'signed out')
  t.equal((await browse(app, browser, '/auth/refresh', { method: 'POST' })).statusCode, 401)
  t.equal(await app.handoff.db.prisma.session.count({ where: { revokedAt: null } }), 0)
})

t.test('with an expired access cookie, the refresh cookie\'s session decides; ?all=true too', async t => {
  const { app, clock } = await buildTestApp(t, env)
  const browser = newBrowser()
  await signIn(app, browser, 'kakao')
  clock.advance(3600) // the access token is long expired; the refresh cookie still names the session
  const response = await logout(app, browser)
  t.match(response.json(), { providerLogoutUrl: /\/oauth\/logout\?/ })

  const other = newBrowser()
  await signIn(app, other, 'kakao')
  const everywhere = await logout(app, other, '?all=true&withProvider=true')
  t.match(everywhere.json(), { providerLogoutUrl: /\/oauth\/logout\?/ })
})

t.test('null for a session opened through another provider, without KAKAO_LOGOUT_REDIRECT_URI, or without a session', async t => {
  const { app } = await buildTestApp(t, env)
  const viaGitHub = newBrowser()
  await signIn(app, viaGitHub, 'github')
  t.same((await logout(app, viaGitHub)).json(), { providerLogoutUrl: null }, 'GitHub has no such page')
  t.same((await logout(app, newBrowser())).json(), { providerLogoutUrl: null }, 'no cookie at all: still 200')

  const { app: plain } = await buildTestApp(t, { ...kakao.env })
  const viaKakao = newBrowser()
  await signIn(plain, viaKakao, 'kakao')
  const response = await logout(plain, viaKakao)
  t.equal(response.statusCode, 200)
  t.same(response.json(), { providerLogoutUrl: null }, 'no logout redirect URI registered')
  t.equal((await browse(plain, viaKakao, '/auth/me')).statusCode, 401, 'signed out all the same')
})

t.test('without withProvider, logout answers 204 as before', async t => {
  const { app } = await buildTestApp(t, env)
  const browser = newBrowser()
  await signIn(app, browser, 'kakao')
  const response = await logout(app, browser, '')
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
})
