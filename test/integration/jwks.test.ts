import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, importPKCS8, jwtVerify, SignJWT } from 'jose'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, PUBLIC_URL } from '../helpers/build-app.js'
import { newBrowser, signIn } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const newPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

/**
 * Another service on 127.0.0.1 that trusts our access cookie: the Node recipe of
 * docs/integration.md. jose refetches the JWKS when a token names a kid it has not seen;
 * cooldownDuration 0 lets it do so at once (its default waits 30 s between fetches, which the
 * staged rotation in the docs allows for).
 */
async function startOtherService (jwksUrl: string) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 0 })
  const server = createServer((request, response) => {
    const token = /(?:^|;\s*)handoff_access=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? ''
    jwtVerify(token, jwks, { issuer: PUBLIC_URL, audience: 'handoff', algorithms: ['ES256', 'EdDSA'] }).then(
      ({ payload }) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ userId: payload.sub, nickname: payload.nickname })),
      (error: { code?: string }) => response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.code })))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return async (token: string) => {
    const response = await fetch(url, { headers: { cookie: `handoff_access=${token}` } })
    return { status: response.status, body: await response.json() as { userId?: string, error?: string } }
  }
}

t.test('another service verifies our cookie through the JWKS, across a key rotation, and refuses forgeries', async t => {
  const oldKey = newPem()
  const before = await buildTestApp(t, { ...github.env, JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: oldKey })
  await before.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (before.app.server.address() as AddressInfo).port
  const verify = await startOtherService(`http://127.0.0.1:${port}/.well-known/jwks.json`)

  const alice = newBrowser()
  const signup = await signIn(before.app, alice)
  const oldToken = await alice.cookie('handoff_access') as string
  const oldCheck = await verify(oldToken)
  t.equal(oldCheck.status, 200, 'a real access cookie is accepted')
  t.equal(oldCheck.body.userId, signup.json().user.id, 'and names our user')

  // Rotation: the new key signs, the old one is still published until its tokens expire.
  const newKey = newPem()
  await before.app.close()
  const after = await buildTestApp(t, { ...github.env, JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: `${newKey}\n${oldKey}` })
  await after.app.listen({ host: '127.0.0.1', port })
  const [newKid, oldKid] = after.app.handoff.accessTokens.publicKeys.map(key => key.kid)
  t.not(newKid, oldKid)
  t.equal((await verify(oldToken)).status, 200, 'a token signed before the rotation is still accepted')
  const bob = newBrowser()
  await signIn(after.app, bob)
  const newToken = await bob.cookie('handoff_access') as string
  t.equal(JSON.parse(Buffer.from(newToken.split('.')[0], 'base64url').toString()).kid, newKid, 'the newest key signs')
  t.equal((await verify(newToken)).status, 200, 'a token signed with the new key is accepted (the JWKS is refetched)')

  const claims = { sub: signup.json().user.id, sid: 'x', nickname: 'mallory' }
  const now = Math.floor(Date.now() / 1000)
  const sign = async (pem: string, kid: string, extra: { aud?: string, iat?: number, exp?: number } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(PUBLIC_URL)
      .setAudience(extra.aud ?? 'handoff').setIssuedAt(extra.iat ?? now).setExpirationTime(extra.exp ?? now + 60)
      .sign(await importPKCS8(pem, 'ES256'))
  const refused = {
    'an unknown key with an unknown kid': await sign(newPem(), 'not-our-key'),
    'an unknown key under our kid': await sign(newPem(), newKid),
    'an expired token': await sign(newKey, newKid, { iat: now - 3600, exp: now - 60 }),
    'the wrong audience': await sign(newKey, newKid, { aud: 'someone-else' })
  }
  for (const [name, token] of Object.entries(refused)) {
    const check = await verify(token)
    t.equal(check.status, 401, `${name} is refused (${check.body.error})`)
  }
  t.equal((await verify(await sign(newKey, newKid))).status, 200, 'the same claims, correctly signed, pass: the refusals are for their reason')
})

t.test('the JWKS: cacheable, in the OpenAPI, empty with HS256', async t => {
  const { app } = await buildTestApp(t, github.env)
  const jwks = await app.inject('/.well-known/jwks.json')
  t.equal(jwks.statusCode, 200)
  t.same(jwks.json(), { keys: [] }, 'a shared secret is never published')
  t.match(jwks.headers['cache-control'], /max-age=\d+/)
  const openapi = (await app.inject('/docs/json')).json()
  t.same(openapi.paths['/.well-known/jwks.json'].get.tags, ['keys'])
})

t.test('EdDSA without keys outside production: one key generated under DATA_DIR and kept', async t => {
  const dataDir = t.testdir()
  const env = { ...github.env, JWT_ALGORITHM: 'EdDSA', DATA_DIR: dataDir }
  const first = await buildTestApp(t, env)
  const [key] = first.app.handoff.accessTokens.publicKeys
  t.match(key, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
  const browser = newBrowser()
  await signIn(first.app, browser)
  const jwks = (await first.app.inject('/.well-known/jwks.json')).json()
  t.same(jwks.keys, [key], 'the public half is published, nothing else')
  t.notMatch(JSON.stringify(jwks), /"d"/, 'no private member')
  await first.app.close()
  const second = await buildTestApp(t, env)
  t.equal(second.app.handoff.accessTokens.publicKeys[0].kid, key.kid, 'the same key after a restart')
})
