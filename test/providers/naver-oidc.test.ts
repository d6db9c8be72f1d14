import { createHash } from 'node:crypto'
import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeNaver, type NaverIdTokenFault } from '../fakes/naver.js'
import { FRONTEND_URL, PUBLIC_URL } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'
import { expectLoginFailure, providerFlow } from '../helpers/provider-flow.js'
import { resetNaver } from '../helpers/provider-resets.js'
import { storedProfile } from '../helpers/stored-profile.js'
import { appsOnOneDatabase } from '../helpers/two-modes.js'

// Naver in OpenID Connect mode (NAVER_OIDC=true): /oauth2/* with PKCE, the id_token checked against
// the fake's JWKS, the identity still /v1/nid/me's id.

const { fake: naver, build, failures } = await providerFlow('naver', startFakeNaver, { reset: resetNaver })
const OIDC = { NAVER_OIDC: 'true' }

t.test('OIDC mode: /oauth2/authorize with openid and PKCE, the token call with the verifier, the id_token verified', async t => {
  const { app, login, exchange } = await build(t, OIDC)
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/, `login ended with ${outcome.error}`)

  const authorize = naver.requests.find(request => request.path === '/oauth2/authorize')
  const token = naver.requests.find(request => request.path === '/oauth2/token')
  t.ok(authorize, 'the OIDC authorize endpoint, not /oauth2.0/authorize')
  t.notOk(naver.requests.some(request => request.path.startsWith('/oauth2.0/')), 'nothing on the legacy endpoints')
  t.equal(authorize?.query.scope, 'openid profile')
  t.equal(authorize?.query.code_challenge_method, 'S256')
  t.equal(authorize?.query.nonce, undefined, 'no nonce: Naver documents none')
  t.equal(token?.method, 'POST')
  t.same(token?.query, {}, 'nothing in the token URL')
  t.equal(token?.body.state, authorize?.query.state, 'the state, as Naver requires')
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri)
  t.equal(createHash('sha256').update(token?.body.code_verifier ?? '').digest('base64url'), authorize?.query.code_challenge, 'S256(verifier) = challenge')
  t.ok(naver.requests.some(request => request.path === '/oauth2/jwks'), 'keys from NAVER_AUTH_URL/oauth2/jwks')

  t.equal((await exchange(outcome)).statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.providerUserId, naver.user.id, '/v1/nid/me response.id')
  t.equal(stored?.emailVerified, false, 'still only a contact address')
})

t.test('an id_token sub other than /v1/nid/me id: the identity stays the profile id', async t => {
  naver.sub = 'pairwise-subject-of-another-form'
  const { app, login } = await build(t, OIDC)
  t.ok((await login()).code)
  t.equal((await storedProfile(app))?.providerUserId, naver.user.id)
})

t.test('a tampered verifier cookie ends as provider_token_error and signs nobody in', async t => {
  const testApp = await build(t, OIDC)
  const browser = newBrowser()
  const { names } = loginCookies(testApp.config, 'naver')
  await expectLoginFailure(t, testApp, await loginThroughProvider(testApp.app, browser, 'naver', {
    tamperCallback: () => { browser.jar.setCookieSync(`${names.verifier}=${'x'.repeat(43)}; Path=/auth/naver/callback`, `${PUBLIC_URL}/auth/naver/callback`) }
  }), 'provider_token_error')
  t.equal(naver.requests.find(request => request.path === '/oauth2/token')?.body.code_verifier, 'x'.repeat(43), 'Naver saw the wrong verifier and refused')
})

const forged: Array<[NaverIdTokenFault, string]> = [
  ['wrong_aud', 'for another client'],
  ['wrong_iss', 'from another issuer'],
  ['wrong_key', 'signed by a key not in Naver\'s JWKS'],
  ['expired', 'expired'],
  ['missing', 'absent']
]
for (const [fault, description] of forged) {
  t.test(`an id_token ${description} ends on the frontend with provider_token_error, nothing written`, async t => {
    naver.idToken = fault
    const testApp = await build(t, OIDC)
    await expectLoginFailure(t, testApp, await testApp.login(), 'provider_token_error')
    t.notOk(naver.requests.some(request => request.path === '/v1/nid/me'), 'the profile is not even read')
  })
}

failures([
  { name: 'JWKS hangs', expected: 'provider_timeout', env: { ...OIDC, PROVIDER_TIMEOUT_MS: '300' }, setup: () => { naver.jwks = 'hang' } },
  { name: 'JWKS answers 500', expected: 'provider_token_error', env: OIDC, setup: () => { naver.jwks = 'status500' } },
  { name: 'wrong client secret (401 invalid_client)', expected: 'provider_misconfigured', env: { ...OIDC, NAVER_CLIENT_SECRET: 'wrong' } },
  { name: 'token endpoint 503', expected: 'provider_token_error', env: OIDC, setup: () => { naver.token = 'status500' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', env: { ...OIDC, PROVIDER_TIMEOUT_MS: '300' }, setup: () => { naver.token = 'hang' } },
  { name: 'denied consent', expected: 'access_denied', env: OIDC, setup: () => { naver.authorize = 'deny' } }
])

t.test('switching NAVER_OIDC on and off keeps signing in the same account', async t => {
  const appOn = await appsOnOneDatabase(t)
  const signup = await signIn(await appOn(naver.env), newBrowser(), 'naver')
  t.equal(signup.statusCode, 201, 'signed up with the legacy endpoints')
  for (const [mode, env] of [['OIDC', { ...naver.env, ...OIDC }], ['legacy again', naver.env]] as const) {
    const app = await appOn(env)
    const browser = newBrowser()
    const { params } = await loginThroughProvider(app, browser, 'naver')
    const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
    t.equal(exchange.json().status, 'authenticated', `${mode}: a returning user, not a signup`)
    t.equal(exchange.json().user.id, signup.json().user.id, `${mode}: the same account`)
    t.equal(await app.handoff.db.prisma.identity.count(), 1, `${mode}: one identity`)
  }
})
