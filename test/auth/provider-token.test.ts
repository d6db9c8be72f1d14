import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { startFakeGoogle } from '../fakes/google.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { buildTestApp, type TestApp } from '../helpers/build-app.js'
import { appRequest, nothingWritten } from '../helpers/native.js'
import { resetKakao } from '../helpers/provider-resets.js'

// Path B of native apps: POST /auth/:provider/token with what the provider's own SDK gave the app.
// Every token is checked with the provider's rules over real HTTP (the fakes' JWKS and token info);
// every refusal is a 4xx that writes nothing. Runs on PGlite and, with TEST_DATABASE_URL, PostgreSQL.

const kakao = await startFakeKakao()
const google = await startFakeGoogle()
t.teardown(() => Promise.all([kakao.close(), google.close()]))
t.beforeEach(() => {
  resetKakao(kakao)
  kakao.tokenInfo = 'ok'
  kakao.requests.length = 0
})

const ENV = {
  ...kakao.env,
  KAKAO_NATIVE_APP_KEYS: `${kakao.nativeAppKey}, fake-kakao-javascript-key`,
  KAKAO_APP_ID: kakao.appId,
  ...google.env,
  GOOGLE_NATIVE_CLIENT_IDS: `${google.iosClientId},${google.androidClientId}`,
  NAVER_CLIENT_ID: 'naver-client',
  NAVER_CLIENT_SECRET: 'naver-secret'
}
type Tap = Parameters<typeof buildTestApp>[0]
const build = (t: Tap, env: Record<string, string> = {}) => buildTestApp(t, { ...ENV, ...env })

const newNonce = () => randomBytes(24).toString('base64url')
const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex')
const signInWithToken = (app: TestApp['app'], provider: string, payload: Record<string, unknown>) => appRequest(app, 'POST', `/auth/${provider}/token`, { payload })

t.test('Kakao id_token: a first login signs up with the signup token, the next one gets tokens; the nonce may be hashed', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const nonce = newNonce()
  const first = await signInWithToken(app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce }), nonce })
  t.equal(first.statusCode, 200, first.body)
  t.equal(first.headers['set-cookie'], undefined, 'no cookie')
  t.match(first.json(), { status: 'signup_required', profile: { suggestedNickname: '홍길동', provider: 'kakao' }, signupToken: /^[\w-]{43}$/ })
  const signup = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: '홍길동', signupToken: first.json().signupToken } })
  t.equal(signup.statusCode, 201)
  const identity = await app.handoff.db.prisma.identity.findFirstOrThrow()
  t.same({ provider: identity.provider, providerUserId: identity.providerUserId }, { provider: 'kakao', providerUserId: '4287654321' }, 'the same identity a browser login makes')
  t.equal((await app.handoff.db.prisma.session.findFirstOrThrow()).client, 'native')

  // Apple's convention, which Kakao's SDK takes too: the SDK got SHA-256(nonce) in hex, we get the raw nonce.
  const raw = newNonce()
  const again = await signInWithToken(app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce: sha256Hex(raw), aud: 'fake-kakao-javascript-key' }), nonce: raw })
  t.equal(again.statusCode, 200, again.body)
  t.equal(again.json().status, 'authenticated')
  t.equal(again.json().user.id, signup.json().user.id)
  t.match(again.json().tokens, { tokenType: 'Bearer', accessToken: String, refreshToken: String })
  t.equal((await appRequest(app, 'GET', '/users/me', { accessToken: again.json().tokens.accessToken })).statusCode, 200)
})

t.test('Kakao id_tokens refused: another audience, a wrong nonce, no nonce, a forged or expired one, another issuer: 401 native_token_invalid, nothing written', async t => {
  const testApp = await build(t)
  const nonce = newNonce()
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, Promise<string>, string]> = [
    ['the REST API key as audience (a web login\'s token)', kakao.sdkIdToken({ nonce, aud: kakao.clientId }), nonce],
    ['another app\'s native app key', kakao.sdkIdToken({ nonce, aud: 'someone-elses-native-key' }), nonce],
    ['a wrong nonce', kakao.sdkIdToken({ nonce: newNonce() }), nonce],
    ['a token without nonce', kakao.sdkIdToken({}), nonce],
    ['the hash of the nonce in the token, another raw nonce sent', kakao.sdkIdToken({ nonce: sha256Hex(newNonce()) }), nonce],
    ['a key not in Kakao\'s JWKS', kakao.sdkIdToken({ nonce }, { strangerKey: true }), nonce],
    ['an expired token', kakao.sdkIdToken({ nonce, exp: now - 60 }), nonce],
    ['another issuer', kakao.sdkIdToken({ nonce, iss: 'https://evil.example' }), nonce],
    ['a user id that is not Kakao\'s', kakao.sdkIdToken({ nonce, sub: 'not-digits' }), nonce]
  ]
  for (const [name, idToken, sentNonce] of cases) {
    const refused = await signInWithToken(testApp.app, 'kakao', { idToken: await idToken, nonce: sentNonce })
    t.equal(refused.statusCode, 401, `${name}: 401`)
    t.equal(refused.json().code, 'native_token_invalid', `${name}: native_token_invalid`)
  }
  await nothingWritten(t, testApp)
})

t.test('an id_token works once, with either form of its nonce: a replay is refused', async t => {
  const { app } = await build(t)
  const raw = newNonce()
  const idToken = await kakao.sdkIdToken({ nonce: sha256Hex(raw) })
  t.equal((await signInWithToken(app, 'kakao', { idToken, nonce: raw })).statusCode, 200, 'the app, with its raw nonce')
  for (const nonce of [raw, sha256Hex(raw)]) {
    const replay = await signInWithToken(app, 'kakao', { idToken, nonce })
    t.equal(replay.statusCode, 401, nonce === raw ? 'the same again' : 'with the claim\'s own value, read from the token')
    t.equal(replay.json().code, 'native_token_invalid')
    t.match(replay.json().message, /already used/)
  }
  t.equal(await app.handoff.db.prisma.pendingSignup.count(), 1, 'the replays opened no second signup')
})

t.test('Kakao access token: our app\'s signs in; another app\'s (token info names another app_id) is refused before its profile is read', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const foreign = await signInWithToken(app, 'kakao', { accessToken: kakao.sdkAccessToken('7654321') })
  t.equal(foreign.statusCode, 401)
  t.equal(foreign.json().code, 'native_token_invalid')
  t.match(foreign.json().message, /another app/)
  t.same(kakao.requests.map(request => request.path), ['/v1/user/access_token_info'], 'the token info only: /v2/user/me never asked')
  const unknown = await signInWithToken(app, 'kakao', { accessToken: 'not-a-kakao-token' })
  t.equal(unknown.statusCode, 401, 'a token Kakao does not know')
  t.equal(unknown.json().code, 'native_token_invalid')
  await nothingWritten(t, testApp)

  kakao.requests.length = 0
  const ours = kakao.sdkAccessToken()
  const accepted = await signInWithToken(app, 'kakao', { accessToken: ours })
  t.equal(accepted.statusCode, 200, accepted.body)
  t.equal(accepted.json().status, 'signup_required')
  t.same(kakao.requests.map(request => `${request.method} ${request.path}`), ['GET /v1/user/access_token_info', 'GET /v2/user/me'])
  t.equal(kakao.requests[0].headers.authorization, `Bearer ${ours}`, 'the token goes in the header, never a URL')
})

t.test('Kakao access token above 2^53: the ids of token info and profile are compared exactly', async t => {
  const { app } = await build(t)
  kakao.account = { ...kakao.account, id: '9007199254740993' }
  const accepted = await signInWithToken(app, 'kakao', { accessToken: kakao.sdkAccessToken() })
  t.equal(accepted.statusCode, 200, accepted.body)
  const signup = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: '큰번호', signupToken: accepted.json().signupToken } })
  t.equal(signup.statusCode, 201)
  t.equal((await app.handoff.db.prisma.identity.findFirstOrThrow()).providerUserId, '9007199254740993')
})

t.test('Kakao in OpenID Connect mode (KAKAO_OIDC=true) still takes an SDK access token: the browser login\'s id_token check is not in its way', async t => {
  const { app } = await build(t, { KAKAO_OIDC: 'true' })
  const accepted = await signInWithToken(app, 'kakao', { accessToken: kakao.sdkAccessToken() })
  t.equal(accepted.statusCode, 200, accepted.body)
  t.match(accepted.json(), { status: 'signup_required', profile: { email: 'gildong@kakao.com', provider: 'kakao' } })
})

t.test('a field the app requires that the SDK\'s token lacks: 403 provider_consent_missing, nothing written', async t => {
  const testApp = await build(t, { KAKAO_REQUIRED_FIELDS: 'email' })
  const nonce = newNonce()
  const refused = await signInWithToken(testApp.app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce }), nonce })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'provider_consent_missing')
  t.match(refused.json().message, /email/)
  await nothingWritten(t, testApp)
  const withEmail = newNonce()
  const accepted = await signInWithToken(testApp.app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce: withEmail, email: 'gildong@kakao.com' }), nonce: withEmail })
  t.equal(accepted.statusCode, 200, 'with the email (after the SDK\'s additional consent) it signs in')
})

t.test('Kakao failing: a transient token-info error is 502 provider_error, a silent one 504 provider_timeout', async t => {
  const testApp = await build(t, { PROVIDER_TIMEOUT_MS: '300' })
  kakao.tokenInfo = 'transient'
  const transient = await signInWithToken(testApp.app, 'kakao', { accessToken: kakao.sdkAccessToken() })
  t.equal(transient.statusCode, 502)
  t.equal(transient.json().code, 'provider_error')
  kakao.tokenInfo = 'hang'
  const hang = await signInWithToken(testApp.app, 'kakao', { accessToken: kakao.sdkAccessToken() })
  t.equal(hang.statusCode, 504)
  t.equal(hang.json().code, 'provider_timeout')
  await nothingWritten(t, testApp)
})

t.test('Kakao without its native settings: 400 native_token_unsupported naming the setting', async t => {
  const testApp = await buildTestApp(t, kakao.env)
  const nonce = newNonce()
  const idToken = await signInWithToken(testApp.app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce }), nonce })
  t.equal(idToken.statusCode, 400)
  t.equal(idToken.json().code, 'native_token_unsupported')
  t.match(idToken.json().message, /KAKAO_NATIVE_APP_KEYS/)
  const access = await signInWithToken(testApp.app, 'kakao', { accessToken: kakao.sdkAccessToken() })
  t.equal(access.statusCode, 400)
  t.match(access.json().message, /KAKAO_APP_ID/)
  await nothingWritten(t, testApp)
})

t.test('Google id_tokens: the iOS app\'s and the Android app\'s (web client id as audience, itself as azp) sign in; another client\'s are refused', async t => {
  const testApp = await build(t)
  const { app } = testApp
  const refusals: Array<[string, { aud: string, azp?: string }]> = [
    ['another project\'s client as audience', { aud: 'someone-else.apps.googleusercontent.com' }],
    ['our web client id as audience, another app as azp', { aud: google.clientId, azp: 'someone-else.apps.googleusercontent.com' }],
    ['an iOS audience with a foreign azp', { aud: google.iosClientId, azp: 'someone-else.apps.googleusercontent.com' }]
  ]
  for (const [name, claims] of refusals) {
    const nonce = newNonce()
    const refused = await signInWithToken(app, 'google', { idToken: await google.sdkIdToken({ ...claims, nonce }), nonce })
    t.equal(refused.statusCode, 401, `${name}: 401`)
    t.equal(refused.json().code, 'native_token_invalid', name)
  }
  const wrongNonce = await signInWithToken(app, 'google', { idToken: await google.sdkIdToken({ aud: google.iosClientId, nonce: newNonce() }), nonce: newNonce() })
  t.equal(wrongNonce.statusCode, 401, 'a wrong nonce')
  await nothingWritten(t, testApp)

  const ios = newNonce()
  const signedUp = await signInWithToken(app, 'google', { idToken: await google.sdkIdToken({ aud: google.iosClientId, nonce: ios }), nonce: ios })
  t.equal(signedUp.statusCode, 200, signedUp.body)
  t.match(signedUp.json(), { status: 'signup_required', profile: { provider: 'google', email: 'gildong@gmail.com' } })
  t.equal((await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'gildong', signupToken: signedUp.json().signupToken } })).statusCode, 201)
  const android = newNonce()
  const returning = await signInWithToken(app, 'google', { idToken: await google.sdkIdToken({ aud: google.clientId, azp: google.androidClientId, nonce: sha256Hex(android) }), nonce: android })
  t.equal(returning.statusCode, 200, returning.body)
  t.equal(returning.json().status, 'authenticated', 'the same Google account from the Android app')
})

t.test('a provider SDK login follows the browser login\'s linking rules: a verified email joins its account', async t => {
  const { app } = await build(t)
  const googleNonce = newNonce()
  const viaGoogle = await signInWithToken(app, 'google', { idToken: await google.sdkIdToken({ aud: google.iosClientId, nonce: googleNonce }), nonce: googleNonce })
  const created = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'gildong', signupToken: viaGoogle.json().signupToken } })
  const kakaoNonce = newNonce()
  const viaKakao = await signInWithToken(app, 'kakao', { idToken: await kakao.sdkIdToken({ nonce: kakaoNonce, email: 'gildong@gmail.com' }), nonce: kakaoNonce })
  t.equal(viaKakao.statusCode, 200, viaKakao.body)
  t.equal(viaKakao.json().status, 'authenticated', 'Kakao\'s verified email (an id_token carries only verified ones) joins the account')
  t.equal(viaKakao.json().user.id, created.json().user.id)
  t.same((await app.handoff.db.prisma.identity.findMany({ orderBy: { provider: 'asc' } })).map(identity => identity.provider), ['google', 'kakao'])
})

t.test('providers without an SDK path: Naver (its tokens name no app), GitHub; unknown providers are 404; malformed bodies 400', async t => {
  const testApp = await build(t, { GITHUB_CLIENT_ID: 'gh', GITHUB_CLIENT_SECRET: 'gh-secret' })
  const { app } = testApp
  const naver = await signInWithToken(app, 'naver', { accessToken: 'AAAAQosjWDJieBiQZc3to9YQp6HDLvrmyKC' })
  t.equal(naver.statusCode, 400)
  t.equal(naver.json().code, 'native_token_unsupported')
  t.match(naver.json().message, /any Naver app could be replayed.*system browser/)
  const github = await signInWithToken(app, 'github', { accessToken: 'gho_x' })
  t.equal(github.json().code, 'native_token_unsupported')
  const googleAccess = await signInWithToken(app, 'google', { accessToken: 'ya29.x' })
  t.equal(googleAccess.statusCode, 400, 'Google takes the id_token, not an access token')
  t.equal(googleAccess.json().code, 'native_token_unsupported')
  t.equal((await signInWithToken(app, 'line', { accessToken: 'x' })).statusCode, 404)
  // A token with a line break or a non-ASCII character cannot go into a header: the client's error, not Kakao's.
  for (const payload of [{}, { idToken: 'x' }, { idToken: 'x', nonce: newNonce(), accessToken: 'y' }, { nonce: newNonce() }, { accessToken: 'token\r\nX-Injected: 1' }, { accessToken: '토큰' }, { idToken: 'a.b\n.c', nonce: newNonce() }]) {
    const malformed = await signInWithToken(app, 'kakao', payload)
    t.equal(malformed.statusCode, 400, JSON.stringify(payload))
    t.equal(malformed.json().code, 'invalid_request')
  }
  await nothingWritten(t, testApp)
})

t.test('a host app\'s provider whose verifyNativeToken returns a bare profile (not { profile }): 502 provider_error, nothing written', async t => {
  const bare = { provider: 'in-house', providerUserId: '42', nickname: 'octocat', emailVerified: false }
  const inHouse = {
    id: 'in-house',
    displayName: 'In-house SSO',
    oauth2: { clientId: 'id', clientSecret: 'secret', authorizeUrl: 'http://127.0.0.1:9/authorize', tokenUrl: 'http://127.0.0.1:9/token', scope: [], clientAuth: 'body' },
    readAccessToken: () => 'unused',
    fetchProfile: async () => bare,
    verifyNativeToken: async () => bare as never
  }
  const testApp = await buildTestApp(t, {}, { providers: [inHouse as never] })
  const response = await signInWithToken(testApp.app, 'in-house', { accessToken: 'sdk-token' })
  t.equal(response.statusCode, 502, response.body)
  t.equal(response.json().code, 'provider_error')
  await nothingWritten(t, testApp)
})
