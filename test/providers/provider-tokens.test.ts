import t from 'tap'
import { ProviderTokenRefreshError } from '../../src/index.js'
import { parseTokenKeys, TokenVault } from '../../src/providers/token-vault.js'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeGoogle } from '../fakes/google.js'
import { startFakeNaver } from '../fakes/naver.js'
import { buildTestApp, FakeClock, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { browse, newBrowser, signIn, signInWithDev } from '../helpers/login.js'
import { providerFlow, type ProviderApp } from '../helpers/provider-flow.js'

// The tokens a login brings are kept, sealed (never in plaintext: not in the pending profile, not
// in a row, not in a log line), and app.handoff.providerAccessToken hands the host app a fresh
// access token: refreshed through the provider's refresh-token grant when it has under 60 s left.

const { fake: google, build } = await providerFlow('google', () => startFakeGoogle(), {
  reset: google => {
    Object.assign(google, { issueRefreshToken: true, refresh: 'ok', expiresIn: 3599, idToken: 'none', token: 'ok', discovery: {} })
  }
})
const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = ProviderApp['app']

const tokenRows = (app: App) => app.handoff.db.sql.query<{ identity_id: string, ciphertext: string, key_id: string }>('SELECT identity_id, ciphertext, key_id FROM provider_tokens')

/** The kept tokens of the only identity, opened with the app's own vault. */
async function keptTokens (app: App, provider?: string) {
  const [identity] = await app.handoff.db.sql.query<{ id: string, provider: string, provider_user_id: string }>('SELECT id, provider, provider_user_id FROM identities WHERE $1::text IS NULL OR provider = $1', [provider ?? null])
  const [row] = await app.handoff.db.sql.query<{ ciphertext: string, key_id: string }>('SELECT ciphertext, key_id FROM provider_tokens WHERE identity_id = $1', [identity.id])
  if (row === undefined) return undefined
  return { keyId: row.key_id, ...app.handoff.tokenVault.open({ provider: identity.provider, providerUserId: identity.provider_user_id }, { ciphertext: row.ciphertext, keyId: row.key_id }) }
}

const refreshRequests = () => google.requests.filter(request => request.path === '/token' && request.body.grant_type === 'refresh_token')

/** Signs up with Google, returning the user and what the fake's token endpoint answered. */
async function signUpWithGoogle (testApp: ProviderApp) {
  const login = await testApp.login()
  const issued = google.lastTokenReply as { access_token: string, refresh_token: string }
  const exchange = await testApp.exchange(login)
  const signup = await browse(testApp.app, login.browser, '/auth/signup', { method: 'POST', payload: { nickname: 'gildong' } })
  return { user: signup.json().user as { id: string }, issued, exchange, browser: login.browser }
}

t.test('a first login carries its tokens sealed to the signup, which keeps them with the new identity', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock, logs: true })
  const { app, rawLogs } = testApp
  const login = await testApp.login()
  const issued = google.lastTokenReply as { access_token: string, refresh_token: string }
  t.match(issued, { access_token: /^ya29\./, refresh_token: /^1\/\// })

  const [code] = await app.handoff.db.sql.query<{ pending_profile: { sealedTokens: { ciphertext: string, keyId: string } }, text: string }>('SELECT pending_profile, pending_profile::text AS text FROM login_codes')
  t.match(code.pending_profile.sealedTokens, { ciphertext: /^[\w-]+$/, keyId: parseTokenKeys(TEST_PROVIDER_TOKEN_KEY)[0].id }, 'the pending profile carries them sealed')
  t.notMatch(code.text, issued.access_token, 'no access token in the pending profile')
  t.notMatch(code.text, issued.refresh_token, 'no refresh token in the pending profile')

  t.equal((await testApp.exchange(login)).json().status, 'signup_required')
  const [pending] = await app.handoff.db.sql.query<{ text: string }>('SELECT profile::text AS text FROM pending_signups')
  t.match(pending.text, /"sealedTokens"/, 'the pending signup carries them on')
  t.notMatch(pending.text, issued.access_token)
  t.equal((await browse(app, login.browser, '/auth/signup', { method: 'POST', payload: { nickname: 'gildong' } })).statusCode, 201)

  t.same(await keptTokens(app), {
    keyId: parseTokenKeys(TEST_PROVIDER_TOKEN_KEY)[0].id,
    accessToken: issued.access_token,
    accessTokenExpiresAt: new Date(clock.now().getTime() + 3599 * 1000),
    refreshToken: issued.refresh_token
  }, 'kept with the identity: access token, its expiry, refresh token')
  const [row] = await tokenRows(app)
  t.notMatch(row.ciphertext, issued.access_token)
  t.notMatch(rawLogs(), issued.access_token, 'no token in the log')
  t.notMatch(rawLogs(), issued.refresh_token)
  t.notMatch(rawLogs(), TEST_PROVIDER_TOKEN_KEY, 'nor the key')
})

t.test('providerAccessToken: the kept token while it has over 60 s left, then a refresh that keeps the refresh token', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock, logs: true })
  const { app, rawLogs } = testApp
  const { user, issued } = await signUpWithGoogle(testApp)

  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), issued.access_token, 'the kept access token')
  clock.advance(3599 - 61)
  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), issued.access_token, '61 s left: still the kept one')
  t.same(refreshRequests(), [], 'no refresh yet')

  clock.advance(2)
  const refreshed = await app.handoff.providerAccessToken(user.id, 'google')
  t.match(refreshed, /^ya29\./)
  t.not(refreshed, issued.access_token, '59 s left: a new access token')
  t.equal(refreshRequests().length, 1, 'one refresh-token grant')
  const [request] = refreshRequests()
  t.equal(request.body.refresh_token, issued.refresh_token, 'with the kept refresh token')
  t.equal(request.body.client_secret, undefined, 'the secret not in the form: discovery offers client_secret_basic, as for the code exchange')
  t.equal(Buffer.from(String(request.headers.authorization).replace(/^Basic /, ''), 'base64').toString(), `${google.clientId}:${google.clientSecret}`)
  t.same(await keptTokens(app), {
    keyId: parseTokenKeys(TEST_PROVIDER_TOKEN_KEY)[0].id,
    accessToken: refreshed,
    accessTokenExpiresAt: new Date(clock.now().getTime() + 3599 * 1000),
    refreshToken: issued.refresh_token
  }, 'kept: the new access token, and the old refresh token Google did not replace')
  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), refreshed, 'then the new one, without another refresh')
  t.equal(refreshRequests().length, 1)
  t.notMatch(rawLogs(), String(refreshed))
})

t.test('an issuer that takes client_secret_post gets the client credentials in the refresh form', async t => {
  google.discovery = { token_endpoint_auth_methods_supported: ['client_secret_post'] }
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock })
  const { user } = await signUpWithGoogle(testApp)
  clock.advance(3600)
  t.match(await testApp.app.handoff.providerAccessToken(user.id, 'google'), /^ya29\./)
  const [request] = refreshRequests()
  t.match(request.body, { grant_type: 'refresh_token', client_id: google.clientId, client_secret: google.clientSecret })
  t.equal(request.headers.authorization, undefined)
})

t.test('callers asking at once share one refresh', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock })
  const { user } = await signUpWithGoogle(testApp)
  clock.advance(3600)
  const tokens = await Promise.all(Array.from({ length: 8 }, () => testApp.app.handoff.providerAccessToken(user.id, 'google')))
  t.equal(new Set(tokens).size, 1, 'all get the same token')
  t.equal(refreshRequests().length, 1, 'one refresh-token grant')
})

t.test('a refresh the provider refuses with invalid_grant throws provider_grant_invalid and drops the tokens', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock, logs: true })
  const { user } = await signUpWithGoogle(testApp)
  clock.advance(3600)
  google.refresh = 'invalid_grant'
  const error = await testApp.app.handoff.providerAccessToken(user.id, 'google').catch(failure => failure)
  t.ok(error instanceof ProviderTokenRefreshError, 'the exported error class')
  t.match(error, { name: 'ProviderTokenRefreshError', code: 'provider_grant_invalid', grantInvalid: true, providerId: 'google', message: 'Google refused to refresh the access token: invalid_grant' })
  t.same(await tokenRows(testApp.app), [], 'the tokens are dropped')
  t.match(testApp.logs.filter(line => line.level === 40), [{ msg: 'provider tokens: the provider says the grant is invalid; kept tokens dropped', provider: 'google' }])
  t.equal(await testApp.app.handoff.providerAccessToken(user.id, 'google'), null, 'then null: none kept')
})

t.test('a refresh that fails otherwise throws provider_refresh_failed and keeps the tokens for the next try', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, { PROVIDER_TIMEOUT_MS: '300' }, { clock })
  const { user } = await signUpWithGoogle(testApp)
  clock.advance(3600)
  for (const failure of ['status500', 'hang'] as const) {
    google.refresh = failure
    await t.rejects(testApp.app.handoff.providerAccessToken(user.id, 'google'), { name: 'ProviderTokenRefreshError', code: 'provider_refresh_failed', grantInvalid: false }, failure)
    t.equal((await tokenRows(testApp.app)).length, 1, `${failure}: the tokens are kept`)
  }
  google.refresh = 'ok'
  t.match(await testApp.app.handoff.providerAccessToken(user.id, 'google'), /^ya29\./, 'the next call refreshes')
})

t.test('a returning login replaces the kept access token and keeps the refresh token its reply lacks', async t => {
  const clock = new FakeClock()
  const testApp = await build(t, {}, { clock })
  const { issued } = await signUpWithGoogle(testApp)
  google.issueRefreshToken = false
  clock.advance(600)
  const again = await testApp.login()
  const second = google.lastTokenReply as { access_token: string, refresh_token?: string }
  t.equal(second.refresh_token, undefined, 'Google sends no refresh token after the first consent')
  t.equal((await testApp.exchange(again)).json().status, 'authenticated')
  t.match(await keptTokens(testApp.app), { accessToken: second.access_token, refreshToken: issued.refresh_token, accessTokenExpiresAt: new Date(clock.now().getTime() + 3599 * 1000) })
  t.equal((await tokenRows(testApp.app)).length, 1, 'one row per identity')
})

t.test('rotation: a row sealed by an older key still opens, and its next write reseals it with the new key', async t => {
  const newKey = Buffer.alloc(32, 9).toString('base64')
  const clock = new FakeClock()
  const testApp = await build(t, { PROVIDER_TOKEN_KEYS: `${newKey},${TEST_PROVIDER_TOKEN_KEY}` }, { clock })
  const { app } = testApp
  const { user, issued } = await signUpWithGoogle(testApp)
  // As if kept before the rotation: sealed by the old key alone.
  const [identity] = await app.handoff.db.sql.query<{ id: string, provider_user_id: string }>('SELECT id, provider_user_id FROM identities')
  const old = new TokenVault(parseTokenKeys(TEST_PROVIDER_TOKEN_KEY)).seal({ provider: 'google', providerUserId: identity.provider_user_id },
    { accessToken: issued.access_token, accessTokenExpiresAt: new Date(clock.now().getTime() + 3599 * 1000), refreshToken: issued.refresh_token })
  await app.handoff.db.sql.query('UPDATE provider_tokens SET ciphertext = $1, key_id = $2', [old?.ciphertext, old?.keyId])

  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), issued.access_token, 'the old key opens it')
  t.equal((await keptTokens(app))?.keyId, parseTokenKeys(TEST_PROVIDER_TOKEN_KEY)[0].id, 'a read writes nothing')
  clock.advance(3600)
  await app.handoff.providerAccessToken(user.id, 'google')
  t.match(await keptTokens(app), { keyId: parseTokenKeys(newKey)[0].id, refreshToken: issued.refresh_token }, 'the refresh resealed it with the new key')
})

t.test('null without an identity of that provider or kept tokens; an error for a provider that is not enabled', async t => {
  const testApp = await build(t, github.env)
  const { app } = testApp
  const { user } = await signUpWithGoogle(testApp)
  const other = (await signIn(app, newBrowser(), 'github')).json().user as { id: string }
  t.equal(await app.handoff.providerAccessToken(other.id, 'google'), null, 'no Google identity')
  t.equal(await app.handoff.providerAccessToken('not-a-uuid', 'google'), null, 'no such user')
  await app.handoff.db.sql.query('DELETE FROM provider_tokens WHERE identity_id IN (SELECT id FROM identities WHERE provider = \'google\')')
  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), null, 'an identity from before tokens were kept')
  await t.rejects(app.handoff.providerAccessToken(user.id, 'line'), { message: 'providerAccessToken: no provider "line" is enabled' })
})

t.test('linking keeps the linked identity\'s tokens', async t => {
  const testApp = await build(t, { DEV_LOGIN: 'true' })
  const { app } = testApp
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  const start = await browse(app, browser, '/auth/google/link', { method: 'POST', payload: {} })
  const callbackUrl = new URL(String((await fetch(start.json().authorizationUrl, { redirect: 'manual' })).headers.get('location')))
  const callback = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  t.match(String(callback.headers.location), /linked=google/)
  const issued = google.lastTokenReply as { access_token: string, refresh_token: string }
  t.match(await keptTokens(testApp.app, 'google'), { accessToken: issued.access_token, refreshToken: issued.refresh_token })
  const user = (await browse(app, browser, '/auth/me')).json().user as { id: string }
  t.equal(await app.handoff.providerAccessToken(user.id, 'google'), issued.access_token)
  t.equal(await app.handoff.providerAccessToken(user.id, 'dev').catch((error: Error) => error.message), 'providerAccessToken: no provider "dev" is enabled', 'the dev provider keeps no tokens and is no API')
})

t.test('GitHub: its token does not expire, and is handed out as kept; it works at the provider', async t => {
  const { app } = await buildTestApp(t, github.env)
  const user = (await signIn(app, newBrowser(), 'github')).json().user as { id: string }
  const token = await app.handoff.providerAccessToken(user.id, 'github')
  t.match(token, /^gho_/)
  const response = await fetch(`${github.apiUrl}/user`, { headers: { authorization: `Bearer ${token}`, 'user-agent': 'test' } })
  t.equal(response.status, 200, 'a token the provider accepts')
})

t.test('Naver: expires_in comes as a string, and the expiry is kept all the same', async t => {
  const naver = await startFakeNaver()
  t.teardown(() => naver.close())
  const clock = new FakeClock()
  const { app } = await buildTestApp(t, naver.env, { clock })
  await signIn(app, newBrowser(), 'naver')
  t.match(await keptTokens(app), { accessToken: String, refreshToken: String, accessTokenExpiresAt: new Date(clock.now().getTime() + 3600 * 1000) })
})
