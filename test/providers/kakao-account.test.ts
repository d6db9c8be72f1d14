import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { LoginFlowError } from '../../src/errors.js'
import { ProviderGrantError } from '../../src/providers/grant-request.js'
import { kakaoLogoutUrl } from '../../src/providers/kakao-account.js'
import { createKakaoProvider } from '../../src/providers/kakao.js'
import type { Provider } from '../../src/providers/provider.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { providerFlow } from '../helpers/provider-flow.js'

// Kakao after the login, over real HTTP against the fake: the refresh grant and the admin-key
// unlink that deleting an account (or unlinking Kakao here) runs in the background.

const { fake: kakao, build } = await providerFlow('kakao', startFakeKakao, {
  reset: kakao => {
    kakao.clientSecret = undefined
    kakao.account = { id: '4287654321', nickname: '홍길동', profileImage: 'http://k.kakaocdn.net/dn/img_640x640.jpg', isEmailValid: true, isEmailVerified: true }
    kakao.refresh = 'ok'
    kakao.unlink = 'ok'
    kakao.adminKey = 'fake-kakao-primary-admin-key'
    kakao.linked.clear()
    kakao.lastTokens = undefined
  }
})

const context = { timeoutMs: 2000 }

/** The Kakao provider as the app builds it from these settings (the fake's, the admin key's, `env`). */
function kakaoProvider (env: Record<string, string> = {}): Provider {
  const config = loadConfig({ NODE_ENV: 'test', ...kakao.env, ...kakao.adminEnv, ...env })
  return createKakaoProvider(config.kakao!)
}

/** A login through the app, which links the Kakao user to the app at the fake and leaves its tokens there. */
async function logIn (t: Parameters<typeof build>[0]) {
  const { login } = await build(t)
  t.ok((await login()).code, 'the login succeeds')
  return kakao.lastTokens!
}

t.test('refreshTokens: a refresh_token grant in a form; the old refresh token is kept when Kakao sends none', async t => {
  const { refreshToken } = await logIn(t)
  kakao.requests.length = 0
  const provider = kakaoProvider()
  const reply = await provider.refreshTokens!(refreshToken, context)
  const call = kakao.requests.find(request => request.path === '/oauth/token')
  t.same(call?.query, {}, 'nothing in the URL')
  t.same(call?.body, { grant_type: 'refresh_token', client_id: kakao.clientId, refresh_token: refreshToken }, 'no client_secret when the app has none')
  t.type(reply.access_token, 'string')
  t.equal(reply.refresh_token, refreshToken, 'the old refresh token stays')
  // The new access token is one Kakao honours.
  const profile = await provider.fetchProfile(String(reply.access_token), { ...context, tokenReply: reply, nonce: '' })
  t.equal(profile.providerUserId, kakao.account.id)
})

t.test('refreshTokens: near its end Kakao rotates the refresh token, and the new one is returned', async t => {
  const { refreshToken } = await logIn(t)
  kakao.refresh = 'rotate'
  const reply = await kakaoProvider().refreshTokens!(refreshToken, context)
  t.type(reply.refresh_token, 'string')
  t.not(reply.refresh_token, refreshToken, 'the new refresh token')
})

t.test('refreshTokens: the client secret goes in the form when the app enabled one', async t => {
  kakao.clientSecret = 'kakao-client-secret'
  const { refreshToken } = await logIn(t)
  kakao.requests.length = 0
  await kakaoProvider().refreshTokens!(refreshToken, context)
  t.equal(kakao.requests.find(request => request.path === '/oauth/token')?.body.client_secret, 'kakao-client-secret')
})

t.test('refreshTokens: Kakao\'s error replies are returned for the caller to read (invalid_grant: the grant is gone); an unreadable answer throws', async t => {
  const { refreshToken } = await logIn(t)
  const provider = kakaoProvider()
  t.match(await provider.refreshTokens!('not-a-refresh-token', context), { error: 'invalid_grant', error_code: 'KOE322' }, 'an unknown refresh token')
  kakao.clientSecret = 'enabled-later'
  const refused = await provider.refreshTokens!(refreshToken, context)
  t.match(refused, { error: 'invalid_client', error_code: 'KOE010' }, 'our client secret is missing: not invalid_grant, so the tokens are not dropped')
  t.notOk('refresh_token' in refused, 'no refresh token made up for an error reply')
  kakao.clientSecret = undefined
  kakao.refresh = 'status500'
  const failure = await provider.refreshTokens!(refreshToken, context).catch((error: unknown) => error)
  t.ok(failure instanceof LoginFlowError, 'an HTML 500 throws')
  t.equal((failure as LoginFlowError).code, 'provider_token_error')
})

t.test('revokeGrant: POST /v1/user/unlink with the admin key and the user id in the form; Kakao stops listing the app', async t => {
  await logIn(t)
  t.ok(kakao.linked.has('4287654321'), 'linked after the login')
  kakao.requests.length = 0
  await kakaoProvider().revokeGrant!({ providerUserId: '4287654321', tokens: null }, context)
  t.notOk(kakao.linked.has('4287654321'), 'unlinked at Kakao')
  const call = kakao.requests.find(request => request.path === '/v1/user/unlink')
  t.equal(call?.method, 'POST')
  t.equal(call?.headers.authorization, `KakaoAK ${kakao.adminKey}`)
  t.same(call?.body, { target_id_type: 'user_id', target_id: '4287654321' })
  t.same(call?.query, {}, 'nothing in the URL')
})

t.test('revokeGrant: an id above 2^53 is sent exactly', async t => {
  kakao.account.id = '9007199254740993'
  await logIn(t)
  await kakaoProvider().revokeGrant!({ providerUserId: '9007199254740993', tokens: null }, context)
  t.equal(kakao.requests.find(request => request.path === '/v1/user/unlink')?.body.target_id, '9007199254740993')
  t.notOk(kakao.linked.has('9007199254740993'))
})

t.test('revokeGrant: a user Kakao no longer links (-101: unlinked already, a repeated attempt) is done, not an error', async t => {
  const provider = kakaoProvider()
  await t.resolves(provider.revokeGrant!({ providerUserId: '4287654321', tokens: null }, context))
  t.equal(kakao.requests.filter(request => request.path === '/v1/user/unlink').length, 1, 'Kakao was asked')
})

t.test('revokeGrant: a 5xx or no answer within the provider timeout throws a retryable error', async t => {
  await logIn(t)
  const provider = kakaoProvider()
  kakao.unlink = 'status500'
  await t.rejects(provider.revokeGrant!({ providerUserId: '4287654321', tokens: null }, context), { name: 'ProviderGrantError', retryable: true, message: /answered 500/ })
  kakao.unlink = 'hang'
  const started = Date.now()
  await t.rejects(provider.revokeGrant!({ providerUserId: '4287654321', tokens: null }, { timeoutMs: 200 }), { retryable: true, message: /did not answer within 200 ms/ })
  t.ok(Date.now() - started < 2000, 'bounded by the timeout')
  kakao.unlink = 'ok'
  await provider.revokeGrant!({ providerUserId: '4287654321', tokens: null }, context)
  t.notOk(kakao.linked.has('4287654321'), 'a later retry goes through')
})

t.test('revokeGrant: a wrong admin key is not retryable and says which setting, never the key', async t => {
  await logIn(t)
  const provider = kakaoProvider({ KAKAO_ADMIN_KEY: 'an-old-admin-key' })
  const failure = await provider.revokeGrant!({ providerUserId: '4287654321', tokens: null }, context).catch((error: unknown) => error)
  t.ok(failure instanceof ProviderGrantError)
  t.equal((failure as ProviderGrantError).retryable, false)
  t.match((failure as Error).message, /KAKAO_ADMIN_KEY/)
  t.notMatch((failure as Error).message, /an-old-admin-key/)
  t.ok(kakao.linked.has('4287654321'), 'still linked')
})

t.test('without KAKAO_ADMIN_KEY there is no revokeGrant (unlink on withdrawal is off); refresh still works', async t => {
  const config = loadConfig({ NODE_ENV: 'test', ...kakao.env })
  const provider = createKakaoProvider(config.kakao!)
  t.equal(provider.revokeGrant, undefined)
  t.type(provider.refreshTokens, 'function')
})

t.test('kakaoLogoutUrl: Kakao\'s logout page on the auth host with the REST key and the registered URI; none without the setting', async t => {
  const config = loadConfig({ NODE_ENV: 'test', ...kakao.env, KAKAO_LOGOUT_REDIRECT_URI: 'https://app.example.com/signed-out?from=kakao' })
  const url = new URL(kakaoLogoutUrl(config.kakao!)!)
  t.equal(url.origin + url.pathname, `${kakao.authUrl}/oauth/logout`)
  t.same(Object.fromEntries(url.searchParams), { client_id: kakao.clientId, logout_redirect_uri: 'https://app.example.com/signed-out?from=kakao' })
  t.equal(kakaoLogoutUrl(loadConfig({ NODE_ENV: 'test', ...kakao.env }).kakao!), null)
})
