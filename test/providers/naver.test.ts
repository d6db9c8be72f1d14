import t from 'tap'
import { startFakeNaver } from '../fakes/naver.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

const { fake: naver, build, failures } = await providerFlow('naver', startFakeNaver, {
  reset: naver => {
    naver.authorize = 'approve'
    naver.token = 'ok'
    naver.profile = 'ok'
  }
})

t.test('happy path: state in both steps, token call in a form body, code in the fragment, email never verified', async t => {
  const { app, login, exchange: exchangeCode } = await build(t)
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/)

  const authorize = naver.requests.find(request => request.path === '/oauth2.0/authorize')
  const token = naver.requests.find(request => request.path === '/oauth2.0/token')
  t.equal(authorize?.query.response_type, 'code')
  t.equal(authorize?.query.redirect_uri, 'http://localhost/auth/naver/callback')
  t.match(authorize?.query.state, /^[\w-]{43}$/)
  t.equal(token?.method, 'POST')
  t.same(token?.query, {}, 'neither code nor secret in the token URL')
  t.equal(token?.body.state, authorize?.query.state, 'the login\'s state goes to the token call')
  t.equal(token?.body.grant_type, 'authorization_code')
  t.equal(token?.body.client_secret, naver.clientSecret)
  t.match(String(naver.requests.find(request => request.path === '/v1/nid/me')?.headers.authorization), /^Bearer /)

  const exchange = await exchangeCode(outcome)
  t.equal(exchange.statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'naver')
  t.equal(stored?.providerUserId, naver.user.id, 'the opaque string id, as is')
  t.equal(stored?.email, 'openapi@naver.com')
  t.equal(stored?.emailVerified, false, 'a Naver email is only a contact address')
})

failures([
  { name: 'denied consent', expected: 'access_denied', setup: () => { naver.authorize = 'deny' } },
  { name: 'token error with HTTP 200', expected: 'provider_token_error', setup: () => { naver.token = 'invalid_request' } },
  { name: 'wrong client secret (invalid_client with HTTP 200)', expected: 'provider_misconfigured', env: { NAVER_CLIENT_SECRET: 'wrong' } },
  { name: 'token endpoint 500', expected: 'provider_token_error', setup: () => { naver.token = 'status500' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { naver.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'profile 401 (resultcode 024)', expected: 'provider_profile_error', setup: () => { naver.profile = 'unauthorized' } },
  { name: 'profile 200 with a failing resultcode', expected: 'provider_profile_error', setup: () => { naver.profile = 'resultcode_error' } },
  { name: 'profile hangs', expected: 'provider_timeout', setup: () => { naver.profile = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'callback without state', expected: 'invalid_state', tamper: url => url.searchParams.delete('state') }
])

t.test('NAVER_CLIENT_SECRET is required with NAVER_CLIENT_ID', async t => {
  await t.rejects(buildTestApp(t, { NAVER_CLIENT_ID: 'x' }), /Invalid setting NAVER_CLIENT_SECRET/)
})
