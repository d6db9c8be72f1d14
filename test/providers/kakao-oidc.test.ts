import t from 'tap'
import { startFakeKakao, type KakaoIdTokenFault } from '../fakes/kakao.js'
import { FRONTEND_URL } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'
import { expectLoginFailure, providerFlow } from '../helpers/provider-flow.js'
import { resetKakao } from '../helpers/provider-resets.js'
import { storedProfile } from '../helpers/stored-profile.js'
import { appsOnOneDatabase } from '../helpers/two-modes.js'

// Kakao in OpenID Connect mode (KAKAO_OIDC=true), against the fake's id_token signing and JWKS.

const { fake: kakao, build, failures } = await providerFlow('kakao', startFakeKakao, { reset: resetKakao })
const OIDC = { KAKAO_OIDC: 'true' }

t.test('OIDC mode: openid and a nonce go to Kakao, the id_token is verified, the identity is the same user id', async t => {
  const { app, login, exchange } = await build(t, { ...OIDC, KAKAO_SCOPES: 'account_email' })
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/, `login ended with ${outcome.error}`)

  const authorize = kakao.requests.find(request => request.path === '/oauth/authorize')
  t.equal(authorize?.query.scope, 'profile_nickname,profile_image,account_email,openid', 'openid joins the comma-separated consent items')
  t.match(authorize?.query.nonce, /^[\w-]{43}$/, 'a nonce is sent')
  t.not(authorize?.query.nonce, authorize?.query.state, 'the nonce is not the state')
  t.equal(authorize?.query.code_challenge_method, 'S256', 'PKCE as in the plain mode')
  t.ok(kakao.requests.some(request => request.path === '/.well-known/jwks.json'), 'the keys come from KAKAO_AUTH_URL/.well-known/jwks.json')
  t.ok(kakao.requests.some(request => request.path === '/v2/user/me'), 'the profile is read as well (full-size picture, name)')

  t.equal((await exchange(outcome)).statusCode, 200)
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'kakao')
  t.equal(stored?.providerUserId, '4287654321', 'the id_token sub, the same as /v2/user/me id')
  t.equal(stored?.email, 'gildong@kakao.com')
  t.equal(stored?.emailVerified, true, 'an email in a Kakao id_token is valid and verified')
})

t.test('OIDC mode: a valid but unverified address is not in the id_token and is not vouched for', async t => {
  kakao.account.isEmailVerified = false
  const { app, login } = await build(t, { ...OIDC, KAKAO_SCOPES: 'account_email' })
  t.ok((await login()).code)
  t.equal((await storedProfile(app))?.emailVerified, false)
})

t.test('the plain mode sends neither openid nor a nonce, and reads no id_token', async t => {
  const { login } = await build(t)
  t.ok((await login()).code)
  const authorize = kakao.requests.find(request => request.path === '/oauth/authorize')
  t.equal(authorize?.query.scope, 'profile_nickname,profile_image')
  t.equal(authorize?.query.nonce, undefined)
  t.notOk(kakao.requests.some(request => request.path === '/.well-known/jwks.json'))
})

t.test('the JWKS is fetched once for several logins', async t => {
  const { login } = await build(t, OIDC)
  t.ok((await login()).code)
  t.ok((await login()).code)
  t.equal(kakao.requests.filter(request => request.path === '/.well-known/jwks.json').length, 1)
})

const forged: Array<[KakaoIdTokenFault, string]> = [
  ['wrong_nonce', 'with another login\'s nonce'],
  ['wrong_aud', 'for another app key'],
  ['wrong_iss', 'from another issuer'],
  ['wrong_key', 'signed by a key not in Kakao\'s JWKS'],
  ['expired', 'expired'],
  ['other_sub', 'about another user than /v2/user/me']
]
for (const [fault, description] of forged) {
  t.test(`an id_token ${description} ends on the frontend with provider_token_error, nothing written`, async t => {
    kakao.idToken = fault
    const testApp = await build(t, OIDC)
    await expectLoginFailure(t, testApp, await testApp.login(), 'provider_token_error')
  })
}

failures([
  { name: 'no id_token (OIDC not enabled in Kakao\'s console)', expected: 'provider_misconfigured', env: OIDC, setup: () => { kakao.oidc = false } },
  { name: 'JWKS hangs', expected: 'provider_timeout', env: { ...OIDC, PROVIDER_TIMEOUT_MS: '300' }, setup: () => { kakao.jwks = 'hang' } },
  { name: 'JWKS answers 500', expected: 'provider_token_error', env: OIDC, setup: () => { kakao.jwks = 'status500' } }
])

t.test('switching KAKAO_OIDC on and off keeps signing in the same account', async t => {
  const appOn = await appsOnOneDatabase(t)
  const plain = await appOn(kakao.env)
  const signup = await signIn(plain, newBrowser(), 'kakao')
  t.equal(signup.statusCode, 201, 'signed up in the plain mode')
  const userId = signup.json().user.id

  for (const [mode, env] of [['OIDC', { ...kakao.env, ...OIDC }], ['plain again', kakao.env]] as const) {
    const app = await appOn(env)
    const browser = newBrowser()
    const { params } = await loginThroughProvider(app, browser, 'kakao')
    const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
    t.equal(exchange.json().status, 'authenticated', `${mode}: a returning user, not a signup`)
    t.equal(exchange.json().user.id, userId, `${mode}: the same account`)
    t.equal(await app.handoff.db.prisma.identity.count(), 1, `${mode}: one identity`)
  }
})
