import { OAuth2Server } from 'oauth2-mock-server'
import t from 'tap'
import { startFakeGoogle } from '../fakes/google.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser } from '../helpers/login.js'
import { storedProfile } from '../helpers/stored-profile.js'

// Generic OpenID Connect against two independent issuers: oauth2-mock-server (npm) and our own
// Google-style fake mounted under a realm path, as a Keycloak issuer would be.

const mock = new OAuth2Server()
await mock.issuer.keys.generate('RS256')
await mock.start(0, '127.0.0.1')
t.teardown(() => mock.stop())
mock.service.on('beforeUserinfo', (response: { body: Record<string, unknown> }) => {
  response.body = { ...response.body, email: 'john@example.com', email_verified: true, preferred_username: 'johndoe', name: 'John Doe' }
})

const realm = await startFakeGoogle({ pathPrefix: '/realms/handoff' })
t.teardown(() => realm.close())

const mockEnv = () => ({ OIDC_ISSUER: String(mock.issuer.url), OIDC_CLIENT_ID: 'handoff-client', OIDC_CLIENT_SECRET: 'handoff-secret', OIDC_NAME: 'Mock SSO' })
const realmEnv = () => ({ OIDC_ISSUER: realm.issuer, OIDC_CLIENT_ID: realm.clientId, OIDC_CLIENT_SECRET: realm.clientSecret, OIDC_NAME: 'Company SSO', OIDC_SCOPES: 'openid email' })

t.test('oauth2-mock-server: listed under OIDC_NAME, login ends with a code, identity is (iss, sub)', async t => {
  const { app } = await buildTestApp(t, mockEnv())
  t.same((await app.inject('/auth/providers')).json().providers, [{ id: 'oidc', name: 'Mock SSO', loginUrl: '/auth/oidc/login' }])
  const browser = newBrowser()
  const { location, params } = await loginThroughProvider(app, browser, 'oidc')
  t.equal(location.origin + location.pathname, FRONTEND_URL)
  const code = params.get('code') as string
  t.match(code, /^[\w-]{43}$/, `login ended with ${params.get('error')}`)
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  t.equal(exchange.statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'oidc')
  t.equal(stored?.providerUserId, `${String(mock.issuer.url)}#johndoe`)
  t.equal(stored?.email, 'john@example.com', 'claims the id_token lacks come from userinfo')
  t.equal(stored?.emailVerified, true)
})

t.test('own fake under a realm path: configured scopes, PKCE and nonce, client_secret_post when only that is offered', async t => {
  realm.discovery = { token_endpoint_auth_methods_supported: ['client_secret_post'] }
  realm.requests.length = 0
  const { app } = await buildTestApp(t, realmEnv())
  const { params } = await loginThroughProvider(app, newBrowser(), 'oidc')
  t.ok(params.get('code'), `login ended with ${params.get('error')}`)
  const authorize = realm.requests.find(request => request.path === '/o/oauth2/v2/auth')
  const token = realm.requests.find(request => request.path === '/token')
  t.equal(authorize?.query.scope, 'openid email')
  t.ok(authorize?.query.nonce)
  t.equal(authorize?.query.code_challenge_method, 'S256')
  t.equal(token?.body.client_secret, realm.clientSecret)
  t.notOk(token?.headers.authorization)
  t.equal((await storedProfile(app))?.providerUserId, `${realm.issuer}#${realm.account.sub}`)
})

t.test('a forged id_token from the realm ends on the frontend with an error', async t => {
  realm.discovery = {}
  realm.idToken = 'wrong_nonce'
  t.teardown(() => { realm.idToken = 'none' })
  const { app } = await buildTestApp(t, realmEnv())
  t.equal((await loginThroughProvider(app, newBrowser(), 'oidc')).params.get('error'), 'provider_token_error')
})

t.test('discovery naming another issuer, or none at all, stops the app at start', async t => {
  realm.discovery = { issuer: 'http://127.0.0.1:1/realms/other' }
  t.teardown(() => { realm.discovery = {} })
  await t.rejects(buildTestApp(t, realmEnv()), /Invalid setting OIDC_ISSUER: the discovery document names issuer/)
  await t.rejects(buildTestApp(t, { ...realmEnv(), OIDC_ISSUER: `${realm.issuer}/nowhere` }), /Invalid setting OIDC_ISSUER: discovery answered 404/)
})

t.test('OIDC_ISSUER and OIDC_CLIENT_SECRET are required with OIDC_CLIENT_ID', async t => {
  await t.rejects(buildTestApp(t, { OIDC_CLIENT_ID: 'x', OIDC_CLIENT_SECRET: 'y' }), /Invalid setting OIDC_ISSUER/)
  await t.rejects(buildTestApp(t, { OIDC_CLIENT_ID: 'x', OIDC_ISSUER: 'https://id.example' }), /Invalid setting OIDC_CLIENT_SECRET/)
})
