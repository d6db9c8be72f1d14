import { createHash, randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { startFakeApple } from '../fakes/apple.js'
import { buildTestApp, type TestApp } from '../helpers/build-app.js'
import { onPostgres } from '../helpers/database.js'
import { appRequest } from '../helpers/native.js'

// Sign in with Apple in an app (path B): POST /auth/apple/token with the identityToken the app got
// from AuthenticationServices and the raw nonce. The token must be Apple's, for one of APPLE_APP_IDS
// (never the Services ID of the web login), with SHA-256(nonce) as its nonce claim, used once.

const database = onPostgres ? 'PostgreSQL' : 'PGlite'
const apple = await startFakeApple()
t.teardown(() => apple.close())
t.beforeEach(() => {
  apple.account = { sub: '001234.5b3a3bdf9c0b4f049c1471cae1cd1d8d.0001', email: 'gildong@example.com', email_verified: 'true', is_private_email: 'false' }
})

const ENV = { ...apple.env, APPLE_APP_IDS: 'com.example.ios, com.example.mac' }
const newNonce = () => randomBytes(24).toString('base64url')
const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex')
const signIn = (app: TestApp['app'], payload: Record<string, unknown>) => appRequest(app, 'POST', '/auth/apple/token', { payload })

async function nothingWritten (t: Test, { app }: TestApp) {
  const { prisma } = app.handoff.db
  t.same({ users: await prisma.user.count(), identities: await prisma.identity.count(), sessions: await prisma.session.count(), usedIdTokens: await prisma.usedIdToken.count() },
    { users: 0, identities: 0, sessions: 0, usedIdTokens: 0 }, 'nothing written')
}

t.test(`an app's identityToken (nonce hashed, Apple's way): signup, then the same identity as the web login (${database})`, async t => {
  const { app } = await buildTestApp(t, ENV)
  const nonce = newNonce()
  const first = await signIn(app, { idToken: await apple.sdkIdToken({ nonce: sha256Hex(nonce) }), nonce })
  t.equal(first.statusCode, 200, first.body)
  t.match(first.json(), { status: 'signup_required', profile: { provider: 'apple', email: 'gildong@example.com' }, signupToken: /^[\w-]{43}$/ })
  const signup = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname: 'gildong', signupToken: first.json().signupToken } })
  t.equal(signup.statusCode, 201)
  t.match(await app.handoff.db.prisma.identity.findFirstOrThrow(), { provider: 'apple', providerUserId: apple.account.sub, emailVerified: true })

  const raw = newNonce()
  const again = await signIn(app, { idToken: await apple.sdkIdToken({ nonce: raw, aud: 'com.example.mac' }), nonce: raw })
  t.equal(again.statusCode, 200, again.body)
  t.equal(again.json().status, 'authenticated', 'another app of the list, the nonce raw: signed in')
  t.equal(again.json().user.id, signup.json().user.id)
})

t.test('a private relay address from an app is verified but links no account', async t => {
  apple.account = { ...apple.account, email: 'x7pq2kzd4m@privaterelay.appleid.com', is_private_email: true, email_verified: true }
  const { app } = await buildTestApp(t, ENV)
  const nonce = newNonce()
  const response = await signIn(app, { idToken: await apple.sdkIdToken({ nonce: sha256Hex(nonce) }), nonce })
  t.match(response.json(), { status: 'signup_required', profile: { email: 'x7pq2kzd4m@privaterelay.appleid.com' } })
})

t.test('identityTokens refused: the web Services ID as audience, another app, a wrong nonce, expired, forged; used twice: 401 native_token_invalid', async t => {
  const testApp = await buildTestApp(t, ENV)
  const nonce = newNonce()
  const cases: Array<[string, Promise<string>]> = [
    ['the Services ID as audience (a web login\'s token)', apple.sdkIdToken({ nonce: sha256Hex(nonce), aud: apple.clientId })],
    ['another team\'s app', apple.sdkIdToken({ nonce: sha256Hex(nonce), aud: 'com.someone.else' })],
    ['another sign-in\'s nonce', apple.sdkIdToken({ nonce: sha256Hex(newNonce()) })],
    ['expired', apple.sdkIdToken({ nonce: sha256Hex(nonce), expired: true })],
    ['signed by a key not in Apple\'s JWKS', apple.sdkIdToken({ nonce: sha256Hex(nonce), key: 'stranger' })]
  ]
  for (const [what, idToken] of cases) {
    const response = await signIn(testApp.app, { idToken: await idToken, nonce })
    t.equal(response.statusCode, 401, what)
    t.equal(response.json().code, 'native_token_invalid', what)
  }
  await nothingWritten(t, testApp)

  const idToken = await apple.sdkIdToken({ nonce: sha256Hex(nonce) })
  t.equal((await signIn(testApp.app, { idToken, nonce })).statusCode, 200)
  const replay = await signIn(testApp.app, { idToken, nonce })
  t.equal(replay.statusCode, 401, 'the same identityToken again')
  t.equal(replay.json().code, 'native_token_invalid')
})

t.test('without APPLE_APP_IDS, or with an access token: 400 native_token_unsupported', async t => {
  const noApps = await buildTestApp(t, apple.env)
  const nonce = newNonce()
  const refused = await signIn(noApps.app, { idToken: await apple.sdkIdToken({ nonce: sha256Hex(nonce) }), nonce })
  t.equal(refused.statusCode, 400)
  t.match(refused.json(), { code: 'native_token_unsupported', message: /APPLE_APP_IDS/ })
  await nothingWritten(t, noApps)

  const { app } = await buildTestApp(t, ENV)
  const accessToken = await signIn(app, { accessToken: 'a-token' })
  t.equal(accessToken.statusCode, 400)
  t.equal(accessToken.json().code, 'native_token_unsupported')
})
