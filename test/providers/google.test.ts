import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startFakeGoogle, type IdTokenFault } from '../fakes/google.js'
import { FRONTEND_URL } from '../helpers/build-app.js'
import { expectLoginFailure, providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

const { fake: google, build, failures } = await providerFlow('google', () => startFakeGoogle(), {
  reset: google => {
    google.account = { sub: '110169484474386276334', email: 'gildong@gmail.com', email_verified: true, name: 'Gildong Hong', given_name: 'Gildong', picture: 'https://lh3.googleusercontent.com/a/fake' }
    google.authorize = 'approve'
    google.token = 'ok'
    google.idToken = 'none'
    google.jwks = 'ok'
    google.discovery = {}
  }
})

t.test('happy path: discovery, PKCE, nonce, verified id_token, code in the fragment, identity stored', async t => {
  const { app, login, exchange: exchangeCode } = await build(t)
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/)

  const authorize = google.requests.find(request => request.path === '/o/oauth2/v2/auth')
  const token = google.requests.find(request => request.path === '/token')
  t.equal(authorize?.query.scope, 'openid email profile')
  t.equal(authorize?.query.response_type, 'code')
  t.equal(authorize?.query.code_challenge_method, 'S256')
  t.match(authorize?.query.nonce, /^[\w-]{43}$/, 'a nonce is sent')
  t.not(authorize?.query.nonce, authorize?.query.state, 'the nonce is not the state itself')
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri, 'the same redirect_uri in both steps')
  t.match(token?.body.code_verifier, /^[\w-]{43}$/)
  t.match(String(token?.headers.authorization), /^Basic /, 'client_secret_basic, as discovery allows')
  t.notOk('client_secret' in (token?.body ?? {}))

  const exchange = await exchangeCode(outcome)
  t.equal(exchange.statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'google')
  t.equal(stored?.providerUserId, google.account.sub)
  t.equal(stored?.emailVerified, true)
})

t.test('iss without the scheme is accepted (Google writes both)', async t => {
  google.idToken = 'short_iss'
  const { login } = await build(t)
  t.ok((await login()).code)
})

t.test('email_verified false is honoured', async t => {
  google.account.email_verified = false
  const { app, login } = await build(t)
  t.ok((await login()).code)
  t.equal((await storedProfile(app))?.emailVerified, false)
})

t.test('the JWKS is cached, and fetched again when a token names an unknown kid', async t => {
  const { login } = await build(t)
  const jwksCalls = () => google.requests.filter(request => request.path === '/oauth2/v3/certs').length
  t.ok((await login()).code)
  t.ok((await login()).code)
  t.equal(jwksCalls(), 1, 'one fetch for two logins')
  await google.rotateKey()
  await sleep(1100) // past the refetch cooldown
  t.ok((await login()).code, 'a rotated key still signs in')
  t.equal(jwksCalls(), 2)
})

const forged: Array<[IdTokenFault, string]> = [
  ['wrong_key', 'signed by a key not in the JWKS'],
  ['wrong_aud', 'for another client'],
  ['wrong_nonce', 'with another login\'s nonce'],
  ['expired', 'expired'],
  ['wrong_iss', 'from another issuer'],
  ['missing', 'absent']
]
for (const [fault, description] of forged) {
  t.test(`an id_token ${description} ends on the frontend with provider_token_error`, async t => {
    google.idToken = fault
    const testApp = await build(t)
    await expectLoginFailure(t, testApp, await testApp.login(), 'provider_token_error')
  })
}

failures([
  { name: 'denied consent', expected: 'access_denied', setup: () => { google.authorize = 'deny' } },
  { name: 'token error', expected: 'provider_token_error', setup: () => { google.token = 'invalid_grant' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { google.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'JWKS hangs', expected: 'provider_timeout', setup: () => { google.jwks = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'wrong client secret', expected: 'provider_token_error', setup: () => {}, env: { GOOGLE_CLIENT_SECRET: 'wrong' } }
])

t.test('a discovery document for another issuer stops the app at start, naming the setting', async t => {
  google.discovery = { issuer: 'https://evil.example' }
  await t.rejects(build(t), /Invalid setting GOOGLE_ISSUER: the discovery document names issuer "https:\/\/evil.example"/)
})
