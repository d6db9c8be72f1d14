import t from 'tap'
import { loadConfig, type AppleConfig } from '../../src/config.js'
import { LoginFlowError } from '../../src/errors.js'
import { createAppleProvider } from '../../src/providers/apple.js'
import type { Provider } from '../../src/providers/provider.js'
import { startFakeApple } from '../fakes/apple.js'
import { buildTestApp } from '../helpers/build-app.js'
import { onPostgres } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// Apple's tokens after the login: the refresh grant and the revocation Apple requires when an account
// is deleted (TN3194), each with the client secret, against the fake over real HTTP.

const database = onPostgres ? 'PostgreSQL' : 'PGlite'
const apple = await startFakeApple()
t.teardown(() => apple.close())
t.beforeEach(() => {
  apple.requests.length = 0
  apple.revoked.length = 0
  apple.revoke = 'ok'
  apple.token = 'ok'
})

const appleConfig = (env: Record<string, string> = {}) => loadConfig({ ...apple.env, ...env }).apple as AppleConfig
const provider = (timeoutMs = 2000): Required<Pick<Provider, 'revokeGrant' | 'refreshTokens'>> => createAppleProvider(appleConfig(), { timeoutMs }) as Required<Provider>

/** A real login through the app, so the fake has issued a refresh token: returns it. */
async function issuedRefreshToken (): Promise<string> {
  const { app } = await buildTestApp(t, apple.env)
  apple.refreshTokens.clear()
  const { params } = await loginThroughProvider(app, newBrowser(), 'apple')
  if (params.get('code') === null) throw new Error(`login failed: ${params.get('error')}`)
  return [...apple.refreshTokens][0]
}

t.test('revokeGrant posts the refresh token with its hint and the client secret; 200 is done', async t => {
  const refreshToken = await issuedRefreshToken()
  await provider().revokeGrant({ providerUserId: apple.account.sub, tokens: { accessToken: 'an-access-token', refreshToken } }, { timeoutMs: 2000 })
  t.same(apple.revoked, [{ token: refreshToken, hint: 'refresh_token' }])
  const call = apple.requests.find(request => request.path === '/auth/revoke')
  t.equal(call?.body.client_id, apple.clientId)
  t.match(call?.body.client_secret, /^eyJ/, 'a signed client secret')
  t.match(String(call?.headers['content-type']), 'application/x-www-form-urlencoded')
  t.notOk(apple.refreshTokens.has(refreshToken), 'the fake no longer honours it')
})

t.test('revokeGrant without a refresh token revokes the access token; without tokens it calls nothing', async t => {
  await provider().revokeGrant({ providerUserId: 'x', tokens: { accessToken: 'only-access' } }, { timeoutMs: 2000 })
  t.same(apple.revoked, [{ token: 'only-access', hint: 'access_token' }])
  apple.requests.length = 0
  t.equal(await provider().revokeGrant({ providerUserId: 'x', tokens: null }, { timeoutMs: 2000 }), 'no_token')
  t.equal(apple.requests.length, 0, 'nothing to revoke, nothing sent')
})

t.test('revokeGrant throws when Apple refuses or does not answer, so the background runner retries', async t => {
  apple.revoke = 'invalid_client'
  await t.rejects(provider().revokeGrant({ providerUserId: 'x', tokens: { accessToken: 'a', refreshToken: 'r' } }, { timeoutMs: 2000 }), /Apple \/auth\/revoke answered 400: invalid_client/)
  apple.revoke = 'hang'
  await t.rejects(provider(300).revokeGrant({ providerUserId: 'x', tokens: { accessToken: 'a', refreshToken: 'r' } }, { timeoutMs: 300 }), { name: 'TimeoutError' })
})

t.test('refreshTokens: a new access token (and id_token) for the refresh token; a bad one is provider_token_error', async t => {
  const refreshToken = await issuedRefreshToken()
  const reply = await provider().refreshTokens(refreshToken, { timeoutMs: 2000 })
  t.match(reply, { token_type: 'Bearer', expires_in: 3600, access_token: /^a/ })
  t.equal(reply.refresh_token, undefined, 'Apple sends no new refresh token: the caller keeps the old one')
  const call = apple.requests.find(request => request.path === '/auth/token' && request.body.grant_type === 'refresh_token')
  t.match(call?.body, { client_id: apple.clientId, refresh_token: refreshToken })

  const refused = await provider().refreshTokens('not-a-token', { timeoutMs: 2000 }).catch((error: unknown) => error)
  t.type(refused, LoginFlowError)
  t.equal((refused as LoginFlowError).code, 'provider_token_error')
})

t.test(`DELETE /users/me revokes the Apple refresh token kept at the login, in the background (${database})`, async t => {
  const { app } = await buildTestApp(t, apple.env)
  apple.refreshTokens.clear()
  const browser = newBrowser()
  const user = (await signIn(app, browser, 'apple', { nickname: 'gildong' })).json().user as { id: string }
  const [refreshToken] = [...apple.refreshTokens]
  t.ok(refreshToken, 'Apple issued a refresh token at the login')
  t.equal((await browse(app, browser, '/users/me', { method: 'DELETE' })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.same(apple.revoked, [{ token: refreshToken, hint: 'refresh_token' }], 'the refresh token of the login, revoked with its hint')
  t.equal(await app.handoff.db.prisma.user.count({ where: { id: user.id } }), 0)
  t.same(await app.handoff.db.sql.query('SELECT id FROM provider_grant_revocations'), [], 'the job is done')
})

t.test('unlinking the Apple identity revokes its refresh token too', async t => {
  const { app } = await buildTestApp(t, { ...apple.env, DEV_LOGIN: 'true' })
  apple.refreshTokens.clear()
  const browser = newBrowser()
  const user = (await signIn(app, browser, 'apple', { nickname: 'gildong' })).json().user as { id: string }
  const [refreshToken] = [...apple.refreshTokens]
  await app.handoff.db.sql.query('INSERT INTO identities (user_id, provider, provider_user_id, created_at) VALUES ($1, $2, $3, $4)', [user.id, 'dev', 'dev-1', app.handoff.clock.now()])
  const appleIdentity = (await browse(app, browser, '/users/me')).json().user.identities.find((identity: { provider: string }) => identity.provider === 'apple')
  t.equal((await browse(app, browser, `/users/me/identities/${appleIdentity.id}`, { method: 'DELETE' })).statusCode, 204)
  await app.handoff.grantRevocations.runDue()
  t.same(apple.revoked, [{ token: refreshToken, hint: 'refresh_token' }])
})

t.test('an expired Apple access token is refreshed with the kept refresh token', async t => {
  const { app, clock } = await buildTestApp(t, apple.env)
  const user = (await signIn(app, newBrowser(), 'apple', { nickname: 'gildong' })).json().user as { id: string }
  const first = await app.handoff.providerAccessToken(user.id, 'apple')
  clock.advance(3700)
  const second = await app.handoff.providerAccessToken(user.id, 'apple')
  t.ok(second !== null && second !== first, 'a new access token after the old one expired')
  t.ok(apple.requests.some(request => request.path === '/auth/token' && request.body.grant_type === 'refresh_token'), 'by a refresh grant with the client secret')
})
