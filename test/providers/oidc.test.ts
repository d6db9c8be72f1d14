import { OAuth2Server } from 'oauth2-mock-server'
import t from 'tap'
import { startFakeGoogle } from '../fakes/google.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

// Generic OpenID Connect against two independent issuers: oauth2-mock-server (npm) and our own
// Google-style fake mounted under a realm path, as a Keycloak issuer would be.

const mock = await providerFlow('oidc', async () => {
  const server = new OAuth2Server()
  await server.issuer.keys.generate('RS256')
  await server.start(0, '127.0.0.1')
  server.service.on('beforeUserinfo', (response: { body: Record<string, unknown> }) => {
    response.body = { ...response.body, email: 'john@example.com', email_verified: true, preferred_username: 'johndoe', name: 'John Doe' }
  })
  return { issuer: String(server.issuer.url), close: () => server.stop() }
}, {
  settings: ({ issuer }) => ({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'handoff-client', OIDC_CLIENT_SECRET: 'handoff-secret', OIDC_NAME: 'Mock SSO' })
})

const realmFlow = await providerFlow('oidc', () => startFakeGoogle({ pathPrefix: '/realms/handoff' }), {
  reset: realm => {
    realm.discovery = {}
    realm.idToken = 'none'
  },
  settings: realm => ({ OIDC_ISSUER: realm.issuer, OIDC_CLIENT_ID: realm.clientId, OIDC_CLIENT_SECRET: realm.clientSecret, OIDC_NAME: 'Company SSO', OIDC_SCOPES: 'openid email' })
})
const realm = realmFlow.fake

t.test('oauth2-mock-server: listed under OIDC_NAME, login ends with a code, identity is (iss, sub)', async t => {
  const { app, login, exchange: exchangeCode } = await mock.build(t)
  t.same((await app.inject('/auth/providers')).json().providers, [{ id: 'oidc', name: 'Mock SSO', loginUrl: '/auth/oidc/login' }])
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/, `login ended with ${outcome.error}`)
  const exchange = await exchangeCode(outcome)
  t.equal(exchange.statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'oidc')
  t.equal(stored?.providerUserId, `${mock.fake.issuer}#johndoe`)
  t.equal(stored?.email, 'john@example.com', 'claims the id_token lacks come from userinfo')
  t.equal(stored?.emailVerified, true)
})

t.test('own fake under a realm path: configured scopes, PKCE and nonce, client_secret_post when only that is offered', async t => {
  realm.discovery = { token_endpoint_auth_methods_supported: ['client_secret_post'] }
  const { app, login } = await realmFlow.build(t)
  const outcome = await login()
  t.ok(outcome.code, `login ended with ${outcome.error}`)
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
  realm.idToken = 'wrong_nonce'
  const { login } = await realmFlow.build(t)
  t.equal((await login()).error, 'provider_token_error')
})

t.test('discovery naming another issuer, or none at all, stops the app at start', async t => {
  realm.discovery = { issuer: 'http://127.0.0.1:1/realms/other' }
  await t.rejects(realmFlow.build(t), /Invalid setting OIDC_ISSUER: the discovery document names issuer/)
  await t.rejects(realmFlow.build(t, { OIDC_ISSUER: `${realm.issuer}/nowhere` }), /Invalid setting OIDC_ISSUER: discovery answered 404/)
})

t.test('OIDC_ISSUER and OIDC_CLIENT_SECRET are required with OIDC_CLIENT_ID', async t => {
  await t.rejects(buildTestApp(t, { OIDC_CLIENT_ID: 'x', OIDC_CLIENT_SECRET: 'y' }), /Invalid setting OIDC_ISSUER/)
  await t.rejects(buildTestApp(t, { OIDC_CLIENT_ID: 'x', OIDC_ISSUER: 'https://id.example' }), /Invalid setting OIDC_CLIENT_SECRET/)
})
