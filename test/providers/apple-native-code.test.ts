import { createHash, randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { startFakeApple } from '../fakes/apple.js'
import { startFakeGoogle } from '../fakes/google.js'
import { buildTestApp, type TestApp } from '../helpers/build-app.js'
import { onPostgres } from '../helpers/database.js'
import { appRequest, nothingWritten } from '../helpers/native.js'

// Sign in with Apple in an app, with the credential's authorizationCode besides its identityToken:
// handoff exchanges the code at Apple as the app's bundle id (client secret `sub` = bundle id, no
// redirect_uri), keeps the tokens sealed with that client id, and deleting the account revokes them
// at Apple as that bundle id (TN3194). Against the fake Apple over real HTTP, on PGlite and PostgreSQL.

const database = onPostgres ? 'PostgreSQL' : 'PGlite'
const apple = await startFakeApple()
const google = await startFakeGoogle()
t.teardown(() => Promise.all([apple.close(), google.close()]))
const ACCOUNT = { sub: '001234.5b3a3bdf9c0b4f049c1471cae1cd1d8d.0001', email: 'gildong@example.com', email_verified: 'true', is_private_email: 'false' }
t.beforeEach(() => {
  apple.account = { ...ACCOUNT }
  apple.token = 'ok'
  apple.revoke = 'ok'
  apple.requests.length = 0
  apple.revoked.length = 0
  apple.clientSecrets.length = 0
  apple.appIds = new Set(['com.example.ios', 'com.example.mac'])
})

// A day of reauthentication: the refresh test moves the clock past the access token's hour and then deletes.
const ENV = { ...apple.env, APPLE_APP_IDS: 'com.example.ios, com.example.mac', REAUTH_MAX_AGE_SECONDS: '86400' }
const newNonce = () => randomBytes(24).toString('base64url')
const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex')
const signIn = (app: TestApp['app'], payload: Record<string, unknown>) => appRequest(app, 'POST', '/auth/apple/token', { payload })

/** What an app posts after ASAuthorizationController: the identityToken and (unless told) the authorizationCode of one credential. */
async function credential (options: { aud?: string, codeAud?: string, codeSub?: string, withCode?: boolean } = {}) {
  const nonce = newNonce()
  const idToken = await apple.sdkIdToken({ nonce: sha256Hex(nonce), aud: options.aud })
  if (options.withCode === false) return { idToken, nonce }
  const authorizationCode = apple.appAuthorizationCode({ aud: options.codeAud ?? options.aud, sub: options.codeSub, nonce: sha256Hex(nonce) })
  return { idToken, nonce, authorizationCode }
}

/** Signs up through POST /auth/apple/token (a first sign-in): the app's session. */
async function signUp (t: Test, app: TestApp['app'], payload: Record<string, unknown>): Promise<{ userId: string, accessToken: string }> {
  const first = await signIn(app, payload)
  t.equal(first.statusCode, 200, first.body)
  t.equal(first.json().status, 'signup_required')
  const signup = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'gildong', signupToken: first.json().signupToken } })
  t.equal(signup.statusCode, 201, signup.body)
  return { userId: signup.json().user.id, accessToken: signup.json().tokens.accessToken }
}

/** The kept tokens of the user's Apple identity, opened with the app's vault; null without a row. */
async function keptTokens ({ app }: TestApp) {
  const rows = await app.handoff.db.sql.query<{ ciphertext: string, key_id: string, provider_user_id: string }>(
    'SELECT t.ciphertext, t.key_id, i.provider_user_id FROM provider_tokens t JOIN identities i ON i.id = t.identity_id WHERE i.provider = $1', ['apple'])
  if (rows.length === 0) return null
  const [row] = rows
  return { ciphertext: row.ciphertext, tokens: app.handoff.tokenVault.open({ provider: 'apple', providerUserId: row.provider_user_id }, { ciphertext: row.ciphertext, keyId: row.key_id }) }
}

t.test(`with the authorizationCode: the tokens are kept sealed as the bundle id's, and deleting the account revokes them at Apple as that bundle id (${database})`, async t => {
  const testApp = await buildTestApp(t, ENV, { logs: true })
  const { app } = testApp
  const sent = await credential()
  const { userId, accessToken } = await signUp(t, app, sent)

  const exchange = apple.requests.find(request => request.path === '/auth/token')
  t.match(exchange?.body, { grant_type: 'authorization_code', code: sent.authorizationCode, client_id: 'com.example.ios' }, 'the code exchanged as the bundle id')
  t.notOk(exchange !== undefined && 'redirect_uri' in exchange.body, 'without redirect_uri: the app sent none to authorize')
  t.equal(apple.clientSecrets.at(-1)?.claims.sub, 'com.example.ios', 'with a client secret signed for the bundle id')

  const [refreshToken] = [...apple.refreshTokens]
  t.equal(apple.refreshTokenClients.get(refreshToken), 'com.example.ios')
  const kept = await keptTokens(testApp)
  t.ok(kept, 'a provider_tokens row for the Apple identity')
  t.match(kept?.tokens, { refreshToken, accessToken: /^a/, clientId: 'com.example.ios' }, 'the refresh token, with the client it belongs to')
  t.notOk(kept?.ciphertext.includes(refreshToken), 'never in plaintext')
  t.notOk(kept?.ciphertext.includes(String(kept?.tokens.accessToken)))

  const deleted = await appRequest(app, 'DELETE', '/users/me', { accessToken })
  t.equal(deleted.statusCode, 204, deleted.body)
  t.equal(await app.handoff.db.prisma.user.count({ where: { id: userId } }), 0)
  // The deletion kicked the runner; this pass waits for it.
  await app.handoff.grantRevocations.runDue()
  const revoke = apple.requests.find(request => request.path === '/auth/revoke')
  t.match(revoke?.body, { client_id: 'com.example.ios', token: refreshToken, token_type_hint: 'refresh_token' }, 'revoked as the bundle id')
  t.equal(apple.clientSecrets.at(-1)?.claims.sub, 'com.example.ios')
  t.notOk(apple.refreshTokens.has(refreshToken), 'Apple no longer honours the refresh token: its own client revoked it')

  const logs = testApp.rawLogs()
  for (const secret of [sent.idToken, String(sent.authorizationCode), refreshToken, String(kept?.tokens.accessToken)]) {
    t.notOk(logs.includes(secret), 'no token or code in any log line')
  }
})

t.test(`without a code the sign-in works and keeps nothing; a later sign-in with one keeps the tokens, refreshed and revoked as its bundle id (${database})`, async t => {
  const testApp = await buildTestApp(t, ENV)
  const { app, clock } = testApp
  const { userId } = await signUp(t, app, await credential({ withCode: false }))
  t.equal(await keptTokens(testApp), null, 'no code: no tokens kept')
  t.notOk(apple.requests.some(request => request.path === '/auth/token'), 'Apple\'s token endpoint not called')

  const again = await signIn(app, await credential({ aud: 'com.example.mac' }))
  t.equal(again.statusCode, 200, again.body)
  t.equal(again.json().status, 'authenticated')
  t.equal(again.json().user.id, userId)
  const kept = await keptTokens(testApp)
  t.match(kept?.tokens, { clientId: 'com.example.mac', refreshToken: /^r/ }, 'the returning user\'s identity keeps the mac app\'s tokens')

  // An expired access token is refreshed as the client that holds the refresh token.
  clock.advance(3700)
  const fresh = await app.handoff.providerAccessToken(userId, 'apple')
  t.ok(fresh !== null && fresh !== kept?.tokens.accessToken, 'a new access token')
  t.match(apple.requests.find(request => request.body.grant_type === 'refresh_token')?.body, { client_id: 'com.example.mac', refresh_token: kept?.tokens.refreshToken })
  t.match((await keptTokens(testApp))?.tokens, { clientId: 'com.example.mac', refreshToken: kept?.tokens.refreshToken }, 'still the bundle id\'s after the refresh')

  const deleted = await appRequest(app, 'DELETE', '/users/me', { accessToken: again.json().tokens.accessToken })
  t.equal(deleted.statusCode, 204, deleted.body)
  await app.handoff.grantRevocations.runDue()
  t.match(apple.requests.find(request => request.path === '/auth/revoke')?.body, { client_id: 'com.example.mac', token: kept?.tokens.refreshToken })
  t.notOk(apple.refreshTokens.has(String(kept?.tokens.refreshToken)), 'revoked at Apple')
})

t.test('an account that signed in without a code: deleting it cannot revoke at Apple, and calls nothing', async t => {
  const { app, logs } = await buildTestApp(t, ENV, { logs: true })
  const { accessToken } = await signUp(t, app, await credential({ withCode: false }))
  t.equal((await appRequest(app, 'DELETE', '/users/me', { accessToken })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.ok(logs.some(line => line.provider === 'apple' && /no token was kept/.test(String(line.msg))), 'the runner says nothing could be revoked')
  t.same(await app.handoff.db.sql.query('SELECT id FROM provider_grant_revocations'), [], 'and the job is done')
  t.notOk(apple.requests.some(request => request.path === '/auth/revoke'))
})

t.test('an authorizationCode of another person than the identityToken: 401 native_token_invalid, nothing signed in or kept', async t => {
  const testApp = await buildTestApp(t, ENV)
  const response = await signIn(testApp.app, await credential({ codeSub: '009999.0000000000000000000000000000000.0002' }))
  t.equal(response.statusCode, 401, response.body)
  t.match(response.json(), { code: 'native_token_invalid', message: /another person/ })
  await nothingWritten(t, testApp)
})

t.test('a code Apple refuses (used, another app\'s, unknown): 401 native_token_invalid, nothing signed in; the identityToken may be sent again', async t => {
  const testApp = await buildTestApp(t, ENV)
  const { app } = testApp
  const used = await credential()
  t.equal((await signIn(app, used)).statusCode, 200, 'the first use')
  await app.handoff.db.sql.query('TRUNCATE users, used_id_tokens, login_codes, pending_signups CASCADE')
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a code already exchanged', { ...await credential({ withCode: false }), authorizationCode: used.authorizationCode }],
    ['the mac app\'s code with the iOS app\'s identityToken', await credential({ codeAud: 'com.example.mac' })],
    ['a code Apple never issued', { ...await credential({ withCode: false }), authorizationCode: 'c0123456789abcdef0123456789abcdef.0.abcd' }]
  ]
  for (const [what, payload] of cases) {
    const response = await signIn(app, payload)
    t.equal(response.statusCode, 401, what)
    t.match(response.json(), { code: 'native_token_invalid', message: /Apple refused the authorizationCode.*invalid_grant/ }, what)
  }
  await nothingWritten(t, testApp)
  // The refusal did not spend the identityToken: the app may sign in with it alone.
  const [, payload] = cases[0]
  const { authorizationCode: _dropped, ...withoutCode } = payload
  t.equal((await signIn(app, withoutCode)).statusCode, 200)
})

t.test('Apple does not answer the exchange: 504 provider_timeout; refuses our client secret for the bundle id: 502 provider_error; nothing written', async t => {
  const testApp = await buildTestApp(t, { ...ENV, PROVIDER_TIMEOUT_MS: '300' })
  apple.token = 'hang'
  const slow = await signIn(testApp.app, await credential())
  t.equal(slow.statusCode, 504)
  t.equal(slow.json().code, 'provider_timeout')
  apple.token = 'ok'
  // A bundle id in APPLE_APP_IDS that is not an App ID of the team: Apple answers invalid_client.
  apple.appIds = new Set(['com.example.mac'])
  const misconfigured = await signIn(testApp.app, await credential())
  t.equal(misconfigured.statusCode, 502)
  t.equal(misconfigured.json().code, 'provider_error')
  await nothingWritten(t, testApp)
})

t.test('Apple\'s token endpoint in trouble (a 503 page, a 500 with an error): 502 provider_error, which the app may retry; the operator is told why', async t => {
  const testApp = await buildTestApp(t, ENV, { logs: true })
  for (const mode of ['unavailable', 'unavailable-json'] as const) {
    apple.token = mode
    const response = await signIn(testApp.app, await credential())
    t.equal(response.statusCode, 502, `${mode}: not the app's 401 "sign in again"`)
    t.equal(response.json().code, 'provider_error', mode)
  }
  t.match(testApp.logs.filter(line => line.msg === 'native sign-in: the provider failed').map(line => line.reason), [/answered 503/, /answered 500: server_error/])
  await nothingWritten(t, testApp)
})

t.test('production without PROVIDER_TOKEN_KEYS: the code is not exchanged (its tokens could not be kept); the sign-in goes on, the log says what is lost', async t => {
  const production = { NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', FRONTEND_URL: 'https://auth.example.com/app', JWT_SECRET: randomBytes(32).toString('base64'), PROVIDER_TOKEN_KEYS: undefined }
  const testApp = await buildTestApp(t, { ...ENV, ...production }, { logs: true })
  t.equal(testApp.app.handoff.tokenVault.enabled, false)
  const response = await signIn(testApp.app, await credential())
  t.equal(response.statusCode, 200, response.body)
  t.equal(response.json().status, 'signup_required')
  t.same(apple.requests.filter(request => request.path === '/auth/token'), [], 'Apple\'s token endpoint was not called')
  t.match(testApp.logs.filter(line => line.level === 40).map(line => line.msg), [/^PROVIDER_TOKEN_KEYS is not set: .*Apple grant/, /^native sign-in: authorizationCode not exchanged, PROVIDER_TOKEN_KEYS is not set/])
})

t.test('an authorizationCode is Apple\'s only: another provider refuses it (400 native_token_unsupported); with an access token it is malformed', async t => {
  const testApp = await buildTestApp(t, { ...ENV, ...google.env, GOOGLE_NATIVE_CLIENT_IDS: google.iosClientId })
  const nonce = newNonce()
  const google400 = await appRequest(testApp.app, 'POST', '/auth/google/token', { payload: { idToken: await google.sdkIdToken({ aud: google.iosClientId, nonce }), nonce, authorizationCode: 'c123.0.abcd' } })
  t.equal(google400.statusCode, 400)
  t.match(google400.json(), { code: 'native_token_unsupported', message: /Google takes no authorizationCode/ })
  const mixed = await signIn(testApp.app, { accessToken: 'a-token', authorizationCode: 'c123.0.abcd' })
  t.equal(mixed.statusCode, 400)
  t.equal(mixed.json().code, 'invalid_request')
  const oversized = await signIn(testApp.app, { ...await credential({ withCode: false }), authorizationCode: 'c'.repeat(1025) })
  t.equal(oversized.statusCode, 400)
  t.equal(oversized.json().code, 'invalid_request')
  t.equal(apple.requests.filter(request => request.path === '/auth/token').length, 0, 'Apple never called')
  await nothingWritten(t, testApp)
})
