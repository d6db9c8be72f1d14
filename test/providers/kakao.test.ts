import { createHash } from 'node:crypto'
import t from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { parseKakaoUser } from '../../src/providers/kakao.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { FRONTEND_URL, PUBLIC_URL } from '../helpers/build-app.js'
import { browse, newBrowser } from '../helpers/login.js'
import { providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

const { fake: kakao, build, failures } = await providerFlow('kakao', startFakeKakao, {
  reset: kakao => {
    kakao.clientSecret = undefined
    kakao.consentItems = ['profile_nickname', 'profile_image']
    kakao.account = { id: '4287654321', nickname: '홍길동', profileImage: 'http://k.kakaocdn.net/dn/img_640x640.jpg', isEmailValid: true, isEmailVerified: true }
    kakao.authorize = 'approve'
    kakao.token = 'ok'
    kakao.profile = 'ok'
  }
})

t.test('login redirects to Kakao with comma-separated default consent items and no account_email', async t => {
  const { app } = await build(t)
  const response = await browse(app, newBrowser(), '/auth/kakao/login')
  t.equal(response.statusCode, 302)
  const location = new URL(String(response.headers.location))
  t.equal(location.origin + location.pathname, `${kakao.authUrl}/oauth/authorize`)
  t.equal(location.searchParams.get('client_id'), kakao.clientId)
  t.equal(location.searchParams.get('response_type'), 'code')
  t.equal(location.searchParams.get('redirect_uri'), 'http://localhost/auth/kakao/callback')
  t.equal(location.searchParams.get('scope'), 'profile_nickname,profile_image')
  t.match(location.searchParams.get('state'), /^[\w-]{43}$/)
  t.equal(location.searchParams.get('code_challenge_method'), 'S256', 'PKCE, S256 (the only method Kakao lists)')
  t.match(location.searchParams.get('code_challenge'), /^[\w-]{43}$/, 'base64url SHA-256, no padding')
})

t.test('PKCE: the token form carries the verifier whose S256 is the challenge sent to authorize', async t => {
  const { login } = await build(t)
  t.ok((await login()).code, 'the login succeeds')
  const authorize = kakao.requests.find(request => request.path === '/oauth/authorize')
  const token = kakao.requests.find(request => request.path === '/oauth/token')
  const verifier = token?.body.code_verifier ?? ''
  t.match(verifier, /^[\w-]{43,128}$/, 'RFC 7636 verifier in the form body')
  t.equal(createHash('sha256').update(verifier).digest('base64url'), authorize?.query.code_challenge, 'S256(verifier) = challenge')
  t.notOk(Object.values(token?.query ?? {}).includes(verifier), 'the verifier is not in the token URL')
})

t.test('PKCE: a tampered or missing verifier cookie ends as provider_token_error and signs nobody in', async t => {
  const { app, config, logs } = await build(t, {}, { logs: true })
  const verifierName = loginCookies(config, 'kakao').names.verifier
  const cases: Array<{ name: string, cookie: string, reason: RegExp, tokenCall: boolean }> = [
    // Kakao (here the fake) checks S256(verifier) against the challenge and refuses the code.
    { name: 'another verifier', cookie: `${verifierName}=${'x'.repeat(43)}; Path=/auth/kakao/callback`, reason: /answered 400: invalid_grant \(KOE320\)/, tokenCall: true },
    // We refuse before spending the code: no verifier, no token call.
    { name: 'no verifier', cookie: `${verifierName}=; Path=/auth/kakao/callback; Max-Age=0`, reason: /without the PKCE verifier/, tokenCall: false }
  ]
  for (const { name, cookie, reason, tokenCall } of cases) {
    kakao.requests.length = 0
    logs.length = 0
    const browser = newBrowser()
    // The browser steps of loginThroughProvider, with the cookie changed before the callback.
    const start = await browse(app, browser, '/auth/kakao/login')
    const callbackUrl = new URL(String((await fetch(String(start.headers.location), { redirect: 'manual' })).headers.get('location')))
    await browser.jar.setCookie(cookie, `${PUBLIC_URL}/auth/kakao/callback`)
    const callbackResponse = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
    const params = new URLSearchParams(new URL(String(callbackResponse.headers.location)).hash.slice(1))
    t.equal(callbackResponse.statusCode, 302, name)
    t.equal(params.get('error'), 'provider_token_error', `${name}: error=provider_token_error`)
    t.equal(params.get('code'), null, `${name}: no one-time code`)
    t.match(String(logs.find(entry => entry.msg === 'login failed')?.reason), reason, `${name}: the log says why`)
    const token = kakao.requests.find(request => request.path === '/oauth/token')
    t.equal(token !== undefined, tokenCall, `${name}: token call made: ${tokenCall}`)
    if (tokenCall) t.equal(token?.body.code_verifier, 'x'.repeat(43), 'the tampered verifier is what Kakao saw')
    t.notOk(kakao.requests.some(request => request.path === '/v2/user/me'), `${name}: no profile was read`)
  }
  t.equal(await app.handoff.db.prisma.loginCode.count(), 0)
  t.equal(await app.handoff.db.prisma.user.count(), 0)
})

t.test('happy path: code in the fragment, exchange answers, what we sent Kakao, the identity stored', async t => {
  kakao.account.email = 'gildong@kakao.com'
  kakao.consentItems.push('account_email')
  const { app, login, exchange: exchangeCode } = await build(t, { KAKAO_SCOPES: 'account_email' })
  const outcome = await login()
  const { location, callbackUrl } = outcome
  t.equal(location.origin + location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/)
  t.notOk(location.toString().includes(callbackUrl.searchParams.get('code') as string), 'no Kakao code in the URL')

  const authorize = kakao.requests.find(request => request.path === '/oauth/authorize')
  const token = kakao.requests.find(request => request.path === '/oauth/token')
  t.equal(authorize?.query.scope, 'profile_nickname,profile_image,account_email', 'KAKAO_SCOPES adds to the defaults')
  t.equal(token?.method, 'POST')
  t.same(token?.query, {}, 'nothing in the token URL')
  t.equal(token?.body.grant_type, 'authorization_code')
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri, 'the same redirect_uri in both steps')
  t.notOk('client_secret' in (token?.body ?? {}), 'no client_secret when the app has none')
  t.match(String(token?.headers['content-type']), /^application\/x-www-form-urlencoded/)
  const me = kakao.requests.find(request => request.path === '/v2/user/me')
  t.match(String(me?.headers.authorization), /^Bearer /)

  const exchange = await exchangeCode(outcome)
  t.equal(exchange.statusCode, 200)
  t.match(exchange.body, /홍길동/, 'the Kakao nickname reaches the frontend')
  const stored = await storedProfile(app)
  t.equal(stored?.provider, 'kakao')
  t.equal(stored?.providerUserId, '4287654321')
  t.equal(stored?.email, 'gildong@kakao.com')
  t.equal(stored?.emailVerified, true, 'valid and verified: Kakao vouches for it')
})

t.test('an id above 2^53 is stored exactly', async t => {
  kakao.account.id = '9007199254740993'
  const { app, login } = await build(t)
  t.ok((await login()).code)
  t.equal((await storedProfile(app))?.providerUserId, '9007199254740993', 'not rounded to ...992')
})

t.test('a profile without email is a normal login; a valid but unverified email is not vouched for', async t => {
  const { app, login } = await build(t)
  t.ok((await login()).code)
  t.equal((await storedProfile(app))?.email, null)

  kakao.account = { ...kakao.account, id: '11', email: 'new@kakao.com', isEmailVerified: false }
  const second = await build(t)
  t.ok((await second.login()).code)
  t.equal((await storedProfile(second.app))?.emailVerified, false)
})

t.test('an app with a client secret sends it', async t => {
  kakao.clientSecret = 'kakao-secret'
  const { login } = await build(t)
  t.ok((await login()).code)
  t.equal(kakao.requests.find(request => request.path === '/oauth/token')?.body.client_secret, 'kakao-secret')
})

t.test('asking for a consent item the app has not enabled stops on Kakao\'s page with KOE205', async t => {
  const { app } = await build(t, { KAKAO_SCOPES: 'account_email' })
  const start = await browse(app, newBrowser(), '/auth/kakao/login')
  const page = await fetch(String(start.headers.location), { redirect: 'manual' })
  t.equal(page.status, 400)
  t.match(await page.text(), /KOE205[\s\S]*account_email/)
})

t.test('KOE205 reported on the callback: its own error code and a log line naming the items', async t => {
  const { login, logs } = await build(t, { KAKAO_SCOPES: 'account_email' }, { logs: true })
  kakao.consentItems.push('account_email')
  const { params } = await login({
    tamperCallback: url => {
      url.searchParams.delete('code')
      url.searchParams.set('error', 'invalid_scope')
      url.searchParams.set('error_description', 'KOE205')
    }
  })
  t.equal(params.get('error'), 'provider_scope_not_enabled')
  t.equal(params.get('provider_code'), 'KOE205', 'the frontend learns which KOE code, for GET /auth/messages to explain')
  const line = logs.find(entry => entry.msg === 'login failed')
  t.match(String(line?.reason), /account_email/)
  t.match(String(line?.reason), /Biz app/)
})

t.test('Kakao\'s KOE code reaches the frontend as provider_code, and GET /auth/messages says what to change', async t => {
  const { app, login } = await build(t)
  kakao.clientSecret = 'enabled-in-console' // in Kakao's console, not in our settings
  const { params } = await login()
  t.equal(params.get('error'), 'provider_misconfigured')
  t.equal(params.get('provider'), 'kakao')
  t.equal(params.get('provider_code'), 'KOE010', 'Kakao\'s code for a missing or wrong client secret')
  const catalog = (await app.inject({ url: '/auth/messages', headers: { 'accept-language': 'ko-KR' } })).json()
  t.match(catalog.providerCodes.kakao.KOE010, /\[클라이언트 시크릿\].*KAKAO_CLIENT_SECRET/)

  kakao.clientSecret = undefined
  kakao.token = 'KOE320'
  const second = await login()
  t.equal(second.params.get('error'), 'provider_token_error')
  t.equal(second.params.get('provider_code'), 'KOE320')
})

failures([
  { name: 'denied consent', expected: 'access_denied', setup: () => { kakao.authorize = 'deny' } },
  { name: 'token error KOE320', expected: 'provider_token_error', setup: () => { kakao.token = 'KOE320' } },
  { name: 'token endpoint 500', expected: 'provider_token_error', setup: () => { kakao.token = 'status500' } },
  { name: 'missing client secret (KOE010)', expected: 'provider_misconfigured', setup: () => { kakao.clientSecret = 'enabled-in-console' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { kakao.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'profile 401', expected: 'provider_profile_error', setup: () => { kakao.profile = 'unauthorized' } },
  { name: 'profile garbage', expected: 'provider_profile_error', setup: () => { kakao.profile = 'garbage' } },
  { name: 'profile hangs', expected: 'provider_timeout', setup: () => { kakao.profile = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } }
])

t.test('parseKakaoUser keeps every integer id exact and leaves strings alone', async t => {
  const cases: Array<[string, unknown]> = [
    ['{"id":9007199254740993,"x":1}', '9007199254740993'],
    ['{ "id" : 18446744073709551615 }', '18446744073709551615'],
    ['{"properties":{"nickname":"\\"id\\":1"},"id":5}', '5'],
    ['{"id":"already a string"}', 'already a string']
  ]
  for (const [text, id] of cases) t.equal(parseKakaoUser(text).id, id, text)
  t.equal(parseKakaoUser('{"properties":{"nickname":"\\"id\\":1"},"id":5}').properties?.nickname, '"id":1')
})
