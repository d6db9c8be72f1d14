import { createCipheriv, createHash, createHmac } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createNaverProvider } from '../../src/providers/naver.js'
import { readNaverUnlink } from '../../src/providers/naver-account.js'
import type { Provider } from '../../src/providers/provider.js'
import { encryptNaverUniqueId, signNaverUnlink, startFakeNaver } from '../fakes/naver.js'
import { providerFlow } from '../helpers/provider-flow.js'

// Naver after the login, over real HTTP against the fake: the refresh grant, the revoke that
// deleting an account runs in the background, and the unlink webhook's signature and encryption
// (github.com/naver/naver-openapi-guide ko/login/devguide/devguide.md §4.1.2, §4.3, §4.4).

const { fake: naver, build } = await providerFlow('naver', startFakeNaver, {
  reset: naver => {
    naver.token = 'ok'
    naver.profile = 'ok'
    naver.revoke = 'ok'
    naver.revoked.length = 0
    naver.lastTokens = undefined
  }
})

const context = { timeoutMs: 2000 }
const naverConfig = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', ...naver.env, ...env }).naver!
const naverProvider = (env: Record<string, string> = {}): Provider => createNaverProvider(naverConfig(env))

async function logIn (t: Parameters<typeof build>[0]) {
  const { login } = await build(t)
  t.ok((await login()).code, 'the login succeeds')
  return naver.lastTokens!
}

t.test('refreshTokens: a refresh_token grant in a form body; Naver sends no new refresh token, so the old one is kept', async t => {
  const { refreshToken } = await logIn(t)
  naver.requests.length = 0
  const provider = naverProvider()
  const reply = await provider.refreshTokens!(refreshToken, context)
  const call = naver.requests.find(request => request.path === '/oauth2.0/token')
  t.equal(call?.method, 'POST')
  t.same(call?.query, {}, 'the secret and the refresh token stay out of the URL')
  t.same(call?.body, { grant_type: 'refresh_token', client_id: naver.clientId, client_secret: naver.clientSecret, refresh_token: refreshToken })
  t.equal(reply.refresh_token, refreshToken, 'the old refresh token')
  t.equal(reply.expires_in, '3600', 'Naver\'s string expires_in, as the login reply has it')
  const profile = await provider.fetchProfile(String(reply.access_token), { ...context, tokenReply: reply, nonce: '' })
  t.equal(profile.providerUserId, naver.user.id, 'the new access token works')
})

t.test('refreshTokens: Naver\'s error-in-a-200 is returned for the caller to read; an unreadable answer throws', async t => {
  const { refreshToken } = await logIn(t)
  t.match(await naverProvider().refreshTokens!('unknown', context), { error: 'invalid_request' }, 'an unknown refresh token')
  const refused = await naverProvider({ NAVER_CLIENT_SECRET: 'wrong' }).refreshTokens!(refreshToken, context)
  t.match(refused, { error: 'invalid_client' }, 'a wrong client secret')
  t.notOk('refresh_token' in refused, 'no refresh token made up for an error reply')
  naver.token = 'status500'
  await t.rejects(naverProvider().refreshTokens!(refreshToken, context), { name: 'LoginFlowError', code: 'provider_token_error' })
})

t.test('NAVER_OIDC: the refresh goes to /oauth2/token, where the login got its tokens; revoke stays /oauth2.0/revoke', async t => {
  const { login } = await build(t, { NAVER_OIDC: 'true' })
  t.ok((await login()).code, 'an OIDC-mode login')
  const { accessToken, refreshToken } = naver.lastTokens!
  naver.requests.length = 0
  const provider = naverProvider({ NAVER_OIDC: 'true' })
  const reply = await provider.refreshTokens!(refreshToken, context)
  const call = naver.requests.find(request => request.path.endsWith('/token'))
  t.equal(call?.path, '/oauth2/token')
  t.same(call?.body, { grant_type: 'refresh_token', client_id: naver.clientId, client_secret: naver.clientSecret, refresh_token: refreshToken })
  t.type(reply.access_token, 'string')
  t.equal(reply.refresh_token, refreshToken, 'the old refresh token kept')
  t.match(await provider.refreshTokens!('unknown', context), { error: 'invalid_grant' }, 'a dead refresh token: the 4xx error reply, returned')
  await provider.revokeGrant!({ providerUserId: naver.user.id, tokens: { accessToken, refreshToken } }, context)
  t.ok(naver.requests.some(request => request.path === '/oauth2.0/revoke'))
  t.notOk(naver.isLive(refreshToken), 'revoked')
})

t.test('revokeGrant: the refresh token goes to /oauth2.0/revoke with its hint, and the pair stops working', async t => {
  const { accessToken, refreshToken } = await logIn(t)
  naver.requests.length = 0
  await naverProvider().revokeGrant!({ providerUserId: naver.user.id, tokens: { accessToken, refreshToken } }, context)
  const call = naver.requests.find(request => request.path === '/oauth2.0/revoke')
  t.equal(call?.method, 'POST')
  t.same(call?.query, {}, 'nothing in the URL')
  t.same(call?.body, { client_id: naver.clientId, client_secret: naver.clientSecret, token: refreshToken, token_type_hint: 'refresh_token' })
  t.notOk(naver.isLive(refreshToken), 'the refresh token is revoked')
  t.notOk(naver.isLive(accessToken), 'and its access token with it')
})

t.test('revokeGrant: with only an access token kept, that one is revoked (hint access_token)', async t => {
  const { accessToken, refreshToken } = await logIn(t)
  await naverProvider().revokeGrant!({ providerUserId: naver.user.id, tokens: { accessToken } }, context)
  t.equal(naver.requests.find(request => request.path === '/oauth2.0/revoke')?.body.token_type_hint, 'access_token')
  t.notOk(naver.isLive(accessToken))
  t.notOk(naver.isLive(refreshToken), 'its pair too')
})

t.test('revokeGrant: an already revoked or unknown token is done (Naver answers 200 whatever the token)', async t => {
  const { accessToken, refreshToken } = await logIn(t)
  const provider = naverProvider()
  await provider.revokeGrant!({ providerUserId: naver.user.id, tokens: { accessToken, refreshToken } }, context)
  await t.resolves(provider.revokeGrant!({ providerUserId: naver.user.id, tokens: { accessToken, refreshToken } }, context), 'a second revoke is fine')
  t.equal(naver.revoked.length, 1, 'only the first one revoked anything')
})

t.test('revokeGrant: no kept token, nothing to call; the runner\'s logger hears why', async t => {
  const lines: Array<[object, string]> = []
  const log = { info: (object: object, message: string) => { lines.push([object, message]) } }
  t.equal(await naverProvider().revokeGrant!({ providerUserId: naver.user.id, tokens: null }, { ...context, log }), 'no_token')
  t.equal(naver.requests.length, 0, 'Naver was not called')
  t.match(lines, [[{ provider: 'naver', providerUserId: naver.user.id }, /nothing to revoke/]])
  await t.resolves(naverProvider().revokeGrant!({ providerUserId: naver.user.id, tokens: null }, context), 'and without a logger')
})

t.test('revokeGrant: 503 and no answer are retryable; 401 (our client credentials) is not, and names the settings', async t => {
  const { accessToken, refreshToken } = await logIn(t)
  const identity = { providerUserId: naver.user.id, tokens: { accessToken, refreshToken } }
  naver.revoke = 'status503'
  await t.rejects(naverProvider().revokeGrant!(identity, context), { name: 'ProviderGrantError', retryable: true, message: /answered 503 temporarily_unavailable/ })
  naver.revoke = 'hang'
  await t.rejects(naverProvider().revokeGrant!(identity, { timeoutMs: 200 }), { retryable: true, message: /did not answer within 200 ms/ })
  naver.revoke = 'ok'
  const refused = await naverProvider({ NAVER_CLIENT_SECRET: 'a-rotated-secret' }).revokeGrant!(identity, context).then(() => undefined, (error: unknown) => error as Error & { retryable: boolean })
  t.equal(refused?.retryable, false)
  t.match(refused?.message, /NAVER_CLIENT_SECRET/)
  t.notMatch(refused?.message, /a-rotated-secret/, 'never the secret')
  t.ok(naver.isLive(refreshToken), 'nothing was revoked')
})

// The webhook's cryptography, against the fake's sender (written from Naver's Java samples).

const now = new Date('2026-11-23T12:00:00Z')
const nowSeconds = now.getTime() / 1000
const signed = (userId: string, options: { timestamp?: number, secret?: string, clientId?: string } = {}) => {
  const clientId = options.clientId ?? naver.clientId
  const secret = options.secret ?? naver.clientSecret
  const timestamp = String(options.timestamp ?? nowSeconds)
  const encryptUniqueId = encryptNaverUniqueId(userId, secret)
  return { clientId, encryptUniqueId, timestamp, signature: signNaverUnlink(clientId, encryptUniqueId, timestamp, secret) }
}

t.test('readNaverUnlink: a call signed and encrypted as Naver documents gives the user id back (both id styles)', async t => {
  const config = naverConfig()
  for (const id of ['32742776', naver.user.id, 'x'.repeat(64)]) t.equal(readNaverUnlink(config, signed(id), now), id)
})

t.test('readNaverUnlink: a hand-computed vector (MD5 key, zero IV, commons-codec URL-safe base64)', async t => {
  // Built step by step from §4.4.2/§4.4.3 without the fake's helpers, so a mistake shared by the
  // fake and the code would not pass.
  const secret = 'naverClientSecretValue'
  const key = createHash('md5').update(secret).digest()
  const iv = Buffer.alloc(16)
  const cipher = createCipheriv('aes-128-cbc', key, iv)
  const sealed = Buffer.concat([iv, cipher.update('SOME_NAVER_LOGIN_UNIQUE_ID'), cipher.final()]).toString('base64')
  const urlSafe = (base64: string) => base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  const sign = (encryptUniqueId: string) => createHmac('sha256', key).update(`clientId=someClientId&encryptUniqueId=${encryptUniqueId}&timestamp=1693877406`).digest('base64')
  const config = loadConfig({ NODE_ENV: 'test', NAVER_CLIENT_ID: 'someClientId', NAVER_CLIENT_SECRET: secret }).naver!
  const at = new Date(1693877406_000)
  t.equal(readNaverUnlink(config, { clientId: 'someClientId', encryptUniqueId: urlSafe(sealed), timestamp: '1693877406', signature: urlSafe(sign(urlSafe(sealed))) }, at), 'SOME_NAVER_LOGIN_UNIQUE_ID')
  // commons-codec's decoder also takes the standard alphabet with padding: so do we (the signature
  // covers the ciphertext as sent).
  t.equal(readNaverUnlink(config, { clientId: 'someClientId', encryptUniqueId: sealed, timestamp: '1693877406', signature: sign(sealed) }, at), 'SOME_NAVER_LOGIN_UNIQUE_ID', 'standard base64, padded')
})

t.test('readNaverUnlink: what is refused, and with which code', async t => {
  const config = naverConfig()
  const id = naver.user.id
  const cases: Array<{ name: string, params: Record<string, unknown>, code: string, message?: RegExp }> = [
    { name: 'no signature', params: { ...signed(id), signature: undefined }, code: 'unlink_request_invalid' },
    { name: 'no encryptUniqueId', params: { ...signed(id), encryptUniqueId: '' }, code: 'unlink_request_invalid' },
    { name: 'a timestamp that is not unix seconds', params: { ...signed(id), timestamp: '2026-11-23' }, code: 'unlink_request_invalid' },
    { name: 'an array where a value belongs', params: { ...signed(id), clientId: [naver.clientId, 'x'] }, code: 'unlink_request_invalid' },
    { name: 'another app\'s clientId', params: signed(id, { clientId: 'anotherApp' }), code: 'unlink_unauthorized', message: /NAVER_CLIENT_ID/ },
    { name: 'signed with another secret', params: signed(id, { secret: 'not-our-secret' }), code: 'unlink_unauthorized', message: /signature/ },
    { name: 'a signature that is not base64', params: { ...signed(id), signature: 'not base64!' }, code: 'unlink_unauthorized' },
    { name: 'a truncated signature', params: { ...signed(id), signature: signed(id).signature.slice(0, 20) }, code: 'unlink_unauthorized' },
    { name: 'another user\'s ciphertext under this signature', params: { ...signed(id), encryptUniqueId: signed('someone-else').encryptUniqueId }, code: 'unlink_unauthorized' },
    { name: 'a timestamp changed after signing', params: { ...signed(id), timestamp: String(nowSeconds + 1) }, code: 'unlink_unauthorized' },
    { name: 'signed 301 s ago (window 300 s): a replay', params: signed(id, { timestamp: nowSeconds - 301 }), code: 'unlink_unauthorized', message: /NAVER_UNLINK_WINDOW_SECONDS/ },
    { name: 'signed 301 s ahead', params: signed(id, { timestamp: nowSeconds + 301 }), code: 'unlink_unauthorized' }
  ]
  for (const { name, params, code, message } of cases) {
    // @fastify/error upper-cases the code; the error handler answers it lower-case.
    t.throws(() => readNaverUnlink(config, params, now), { code: code.toUpperCase(), ...(message === undefined ? {} : { message }) }, name)
  }
  t.equal(readNaverUnlink(config, signed(id, { timestamp: nowSeconds - 300 }), now), id, 'exactly at the window\'s edge: accepted')
  t.equal(readNaverUnlink(naverConfig({ NAVER_UNLINK_WINDOW_SECONDS: '600' }), signed(id, { timestamp: nowSeconds - 500 }), now), id, 'NAVER_UNLINK_WINDOW_SECONDS widens it')
})

t.test('readNaverUnlink: a correctly signed ciphertext that does not decrypt to an id is 400 unlink_request_invalid', async t => {
  const config = naverConfig()
  const key = createHash('md5').update(naver.clientSecret).digest()
  const resign = (encryptUniqueId: string) => ({ clientId: naver.clientId, encryptUniqueId, timestamp: String(nowSeconds), signature: signNaverUnlink(naver.clientId, encryptUniqueId, String(nowSeconds), naver.clientSecret) })
  const sealed = Buffer.from(encryptNaverUniqueId(naver.user.id, naver.clientSecret), 'base64url')
  const flipped = Buffer.from(sealed)
  flipped[flipped.length - 1] ^= 0x01 // breaks the PKCS#5 padding
  const encrypt = (plain: Buffer) => {
    const iv = Buffer.alloc(16, 7)
    const cipher = createCipheriv('aes-128-cbc', key, iv)
    return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64url')
  }
  const cases: Array<[string, string]> = [
    ['tampered last block (padding)', flipped.toString('base64url')],
    ['only an IV', sealed.subarray(0, 16).toString('base64url')],
    ['not whole blocks', sealed.subarray(0, 40).toString('base64url')],
    ['not base64', 'not*base64'],
    ['an empty id', encrypt(Buffer.alloc(0))],
    ['control characters', encrypt(Buffer.from('abc\ndef'))],
    ['65 characters', encrypt(Buffer.from('y'.repeat(65)))]
  ]
  for (const [name, encryptUniqueId] of cases) t.throws(() => readNaverUnlink(config, resign(encryptUniqueId), now), { code: 'UNLINK_REQUEST_INVALID' }, name)
})
