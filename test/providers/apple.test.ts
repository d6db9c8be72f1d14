import t from 'tap'
import { startFakeApple, type AppleIdTokenFault } from '../fakes/apple.js'
import { FRONTEND_URL } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { onPostgres } from '../helpers/database.js'
import { browse, newBrowser } from '../helpers/login.js'
import { expectLoginFailure, providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

// Sign in with Apple's web flow against the fake over real HTTP: form_post from Apple's origin (so no
// Lax cookie comes with it) relayed once from ours, the client secret JWT, the id_token's checks, the
// name on the first authorization only, and Apple's string booleans.

const database = onPostgres ? 'PostgreSQL' : 'PGlite'
const { fake: apple, build, failures } = await providerFlow('apple', () => startFakeApple(), {
  reset: apple => {
    apple.account = { sub: '001234.5b3a3bdf9c0b4f049c1471cae1cd1d8d.0001', email: 'gildong@example.com', email_verified: 'true', is_private_email: 'false', firstName: 'Gildong', lastName: 'Hong' }
    apple.authorized.clear()
    apple.userField = undefined
    apple.authorize = 'approve'
    apple.token = 'ok'
    apple.idToken = 'none'
    apple.jwks = 'ok'
    apple.revoke = 'ok'
    apple.clientSecrets.length = 0
    apple.revoked.length = 0
  }
})

t.test(`happy path: form_post relayed from our origin, client secret, verified id_token, name kept to the signup (${database})`, async t => {
  const { app, login, exchange } = await build(t)
  const outcome = await login()
  t.equal(outcome.location.origin + outcome.location.pathname, FRONTEND_URL)
  t.match(outcome.code, /^[\w-]{43}$/)

  const authorize = apple.requests.find(request => request.path === '/auth/authorize')
  t.equal(authorize?.query.response_type, 'code')
  t.equal(authorize?.query.response_mode, 'form_post', 'Apple requires form_post once a scope is asked')
  t.equal(authorize?.query.scope, 'name email')
  t.equal(authorize?.query.client_id, apple.clientId)
  t.equal(authorize?.query.redirect_uri, 'http://localhost/auth/apple/callback')
  t.match(authorize?.query.nonce, /^[\w-]{43}$/)
  t.notOk('code_challenge' in (authorize?.query ?? {}), 'no PKCE: Apple lists none')

  const relay = outcome.relayResponse
  t.equal(relay?.statusCode, 200, 'the cross-site POST, without the Lax state cookie, got the relay page')
  t.match(String(relay?.headers['content-type']), /^text\/html/)
  t.equal(relay?.headers['cache-control'], 'no-store')
  t.equal(relay?.headers['referrer-policy'], 'no-referrer')
  t.match(String(relay?.headers['content-security-policy']), /script-src 'sha256-[\w+/=]+'; form-action 'self'/, 'one script, allowed by its hash')
  t.equal(relay?.headers['set-cookie'], undefined, 'it touches no cookie')
  t.match(relay?.body, /name="handoff_relay" value="1"/)

  const token = apple.requests.find(request => request.path === '/auth/token')
  t.equal(token?.body.grant_type, 'authorization_code')
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri, 'the same redirect_uri in both steps')
  t.equal(token?.body.client_id, apple.clientId)
  const [secret] = apple.clientSecrets
  t.same(secret.header, { alg: 'ES256', kid: apple.keyId })
  t.match(secret.claims, { iss: apple.teamId, sub: apple.clientId, aud: 'https://appleid.apple.com' })
  t.equal((secret.claims.exp ?? 0) - (secret.claims.iat ?? 0), 86_400, 'a one-day client secret')

  const result = await exchange(outcome)
  t.equal(result.statusCode, 200)
  t.match(result.json(), { status: 'signup_required', profile: { provider: 'apple', name: 'Gildong Hong', email: 'gildong@example.com', suggestedNickname: 'Gildong' } })
  const signup = await browse(app, outcome.browser, '/auth/signup', { method: 'POST', payload: { nickname: 'gildong' } })
  t.equal(signup.statusCode, 201)
  const user = await app.handoff.db.prisma.user.findFirstOrThrow({ include: { identities: true } })
  t.equal(user.name, 'Gildong Hong', 'the name of the first authorization fills the profile')
  t.equal(user.email, 'gildong@example.com')
  t.equal(user.emailVerified, true, 'email_verified "true" (a string) counts')
  t.match(user.identities, [{ provider: 'apple', providerUserId: apple.account.sub, displayName: 'Gildong Hong', emailVerified: true }])
})

t.test('the name comes once: a later login has none and keeps the stored one', async t => {
  const { app, login, exchange } = await build(t)
  const first = await login()
  await exchange(first)
  t.equal((await browse(app, first.browser, '/auth/signup', { method: 'POST', payload: { nickname: 'gildong' } })).statusCode, 201)

  const again = await login()
  t.notOk(again.callbackUrl.searchParams.has('user'), 'Apple sends no user field after the first authorization')
  t.equal((await exchange(again)).json().status, 'authenticated')
  t.equal((await app.handoff.db.prisma.identity.findFirstOrThrow()).displayName, 'Gildong Hong', 'the name is not erased')
  t.equal((await app.handoff.db.prisma.user.findFirstOrThrow()).name, 'Gildong Hong')
})

t.test('the name survives a signup finished after the login: it travels with the pending profile', async t => {
  const { app, login, exchange, clock } = await build(t)
  const outcome = await login()
  clock.advance(50)
  const result = await exchange(outcome)
  t.equal(result.json().profile.name, 'Gildong Hong')
  clock.advance(500)
  t.equal((await browse(app, outcome.browser, '/auth/signup', { method: 'POST', payload: { nickname: 'late' } })).statusCode, 201)
  t.equal((await app.handoff.db.prisma.user.findFirstOrThrow()).name, 'Gildong Hong')
})

t.test('Hangul names read family name first; the nickname suggestion is the whole name', async t => {
  apple.account = { ...apple.account, firstName: '길동', lastName: '홍' }
  const { login, exchange } = await build(t)
  t.match((await exchange(await login())).json().profile, { name: '홍길동', suggestedNickname: '홍길동' })
})

const userFields: Array<[string, string, { name: string | null, suggestion?: RegExp }]> = [
  ['not JSON', '{"name":', { name: null }],
  ['a name that is not strings', JSON.stringify({ name: { firstName: 42, lastName: ['x'] } }), { name: null }],
  ['control and bidi characters', JSON.stringify({ name: { firstName: 'Gil\u202edong\u0000', lastName: ' Hong\n' } }), { name: 'Gildong Hong' }],
  ['a 500-character first name', JSON.stringify({ name: { firstName: 'A'.repeat(500) } }), { name: 'A'.repeat(64) }],
  ['HTML', JSON.stringify({ name: { firstName: '<img src=x onerror=alert(1)>' } }), { name: '<img src=x onerror=alert(1)>' }]
]
for (const [what, field, expected] of userFields) {
  t.test(`the unsigned user field is sanitized: ${what}`, async t => {
    apple.userField = field
    const { login, exchange } = await build(t)
    const outcome = await login()
    t.ok(outcome.code, 'the login itself succeeds')
    t.equal((await exchange(outcome)).json().profile.name, expected.name)
  })
}

t.test('the user field never supplies the email: the signed id_token does', async t => {
  apple.userField = JSON.stringify({ name: { firstName: 'Eve' }, email: 'victim@example.com' })
  const { login, exchange } = await build(t)
  t.match((await exchange(await login())).json().profile, { name: 'Eve', email: 'gildong@example.com' })
})

t.test('a user field over 2048 characters ends as invalid_callback', async t => {
  apple.userField = JSON.stringify({ name: { firstName: 'x'.repeat(3000) } })
  const testApp = await build(t)
  const outcome = await testApp.login()
  t.equal(outcome.relayResponse, undefined, 'refused at the first POST, not relayed')
  await expectLoginFailure(t, testApp, outcome, 'invalid_callback')
})

t.test('booleans as booleans work as well as strings; email_verified false is honoured', async t => {
  apple.account = { ...apple.account, email_verified: true, is_private_email: false }
  const first = await build(t)
  t.ok((await first.login()).code)
  t.equal((await storedProfile(first.app))?.emailVerified, true)

  apple.account = { ...apple.account, email_verified: 'false' }
  const second = await build(t)
  t.ok((await second.login()).code)
  t.equal((await storedProfile(second.app))?.emailVerified, false)
})

t.test('a private relay address is verified for its owner even without email_verified', async t => {
  apple.account = { ...apple.account, email: 'x7pq2@privaterelay.appleid.com', email_verified: 'false', is_private_email: 'true' }
  const { app, login } = await build(t)
  t.ok((await login()).code)
  t.match(await storedProfile(app), { email: 'x7pq2@privaterelay.appleid.com', emailVerified: true })
})

t.test('a forged POST without this browser\'s state ends as invalid_state, after one relay', async t => {
  const testApp = await build(t)
  const victim = newBrowser()
  // The attacker's own Apple login gives a valid code and state, posted into the victim's browser.
  const stolen = await testApp.login()
  t.ok(stolen.code, 'the attacker\'s own login worked')
  const planted = await testApp.login({ browser: victim, tamperCallback: url => { url.searchParams.set('state', 'attacker-state') } })
  await t.test('the victim\'s browser', async t => {
    t.equal(planted.relayResponse?.statusCode, 200, 'relayed once')
    t.equal(planted.params.get('error'), 'invalid_state')
    t.equal(planted.params.get('code'), null)
  })
  t.equal(await testApp.app.handoff.db.prisma.loginCode.count(), 1, 'only the attacker\'s own login code exists')
})

t.test('a relayed POST (handoff_relay=1) without the state cookie is not relayed again: invalid_state', async t => {
  const { app } = await build(t)
  const response = await browse(app, newBrowser(), '/auth/apple/callback', {
    method: 'POST',
    payload: 'code=c1&state=s1&handoff_relay=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': undefined }
  })
  t.equal(response.statusCode, 302)
  t.equal(new URLSearchParams(new URL(String(response.headers.location)).hash.slice(1)).get('error'), 'invalid_state')
})

t.test('the relay page escapes what it posts again', async t => {
  const { app } = await build(t)
  const response = await browse(app, newBrowser(), '/auth/apple/callback', {
    method: 'POST',
    payload: new URLSearchParams({ code: '"><script>alert(1)</script>', state: 's', other: 'dropped' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': undefined }
  })
  t.equal(response.statusCode, 200)
  t.notMatch(response.body, '<script>alert(1)</script>')
  t.match(response.body, 'value="&#34;&#62;&#60;script&#62;')
  t.notMatch(response.body, 'dropped', 'only the provider\'s own fields are posted again')
})

t.test('a GET provider has no POST callback; the GET callback of Apple still checks the state', async t => {
  const { app } = await build(t, { GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret' })
  const post = await app.inject({ method: 'POST', url: '/auth/github/callback', payload: 'code=x&state=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(post.statusCode, 404)
  t.equal(post.json().code, 'provider_not_found')
  const get = await app.inject({ method: 'GET', url: '/auth/apple/callback?code=x&state=y' })
  t.equal(new URLSearchParams(new URL(String(get.headers.location)).hash.slice(1)).get('error'), 'invalid_state')
})

t.test('the login cookies stay SameSite=Lax, HttpOnly, on the callback path', async t => {
  const { app } = await build(t)
  const start = await app.inject({ method: 'GET', url: '/auth/apple/login' })
  const state = parseSetCookies(start).get('handoff_apple_state')
  t.equal(state?.attributes.get('samesite'), 'Lax')
  t.ok(state?.attributes.has('httponly'))
  t.equal(state?.attributes.get('path'), '/auth/apple/callback')
})

t.test('the client secret is reused across logins, not signed per request', async t => {
  const { login } = await build(t)
  await login()
  await login()
  t.equal(apple.clientSecrets.length, 2)
  t.same(apple.clientSecrets[0].claims, apple.clientSecrets[1].claims, 'the same secret both times')
})

const forged: Array<[AppleIdTokenFault, string]> = [
  ['wrong_key', 'signed by a key not in Apple\'s JWKS'],
  ['wrong_aud', 'for another client id'],
  ['wrong_nonce', 'with another login\'s nonce'],
  ['expired', 'expired'],
  ['wrong_iss', 'from another issuer'],
  ['missing', 'absent']
]
for (const [fault, description] of forged) {
  t.test(`an id_token ${description} ends on the frontend with provider_token_error`, async t => {
    apple.idToken = fault
    const testApp = await build(t)
    await expectLoginFailure(t, testApp, await testApp.login(), 'provider_token_error')
  })
}

failures([
  { name: 'cancelled on Apple\'s page (user_cancelled_authorize)', expected: 'access_denied', setup: () => { apple.authorize = 'deny' } },
  { name: 'token error', expected: 'provider_token_error', setup: () => { apple.token = 'invalid_grant' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { apple.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'JWKS hangs', expected: 'provider_timeout', setup: () => { apple.jwks = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'a key Apple does not know (invalid_client)', expected: 'provider_misconfigured', env: { APPLE_KEY_ID: 'OTHERKEY12' } },
  { name: 'another team id (invalid_client)', expected: 'provider_misconfigured', env: { APPLE_TEAM_ID: 'OTHERTEAM1' } },
  { name: 'state changed on the way back', expected: 'invalid_state', tamper: url => { url.searchParams.set('state', 'forged') } },
  { name: 'state missing', expected: 'invalid_state', tamper: url => { url.searchParams.delete('state') } },
  { name: 'neither code nor error', expected: 'invalid_callback', tamper: url => { url.searchParams.delete('code') } }
])
