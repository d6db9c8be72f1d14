import Fastify from 'fastify'
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose'
import t from 'tap'
import { LoginFlowError } from '../../src/errors.js'
import { createIdTokenVerifier, type IdTokenVerifierOptions } from '../../src/providers/id-token.js'

// The id_token rules on their own, against a JWKS served over real HTTP: what every provider that
// verifies an id_token (OIDC, Google, Kakao, Naver, native apps) gets from src/providers/id-token.ts.

const { privateKey, publicKey } = await generateKeyPair('RS256')
const stranger = await generateKeyPair('RS256')
let jwksMode: 'ok' | 'hang' | 'status500' = 'ok'
let jwksCalls = 0
const jwksServer = Fastify({ forceCloseConnections: true })
jwksServer.get('/jwks', async (_request, reply) => {
  jwksCalls++
  if (jwksMode === 'hang') return new Promise(() => {})
  if (jwksMode === 'status500') return reply.code(500).send({ error: 'boom' })
  return { keys: [{ ...await exportJWK(publicKey), kid: 'k1', alg: 'RS256', use: 'sig' }] }
})
await jwksServer.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => jwksServer.close())
const address = jwksServer.server.address()
const jwksUri = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/jwks`
t.beforeEach(() => { jwksMode = 'ok'; jwksCalls = 0 })

const ISSUER = 'https://issuer.example'
const options = (overrides: Partial<IdTokenVerifierOptions> = {}): IdTokenVerifierOptions =>
  ({ displayName: 'Test', jwksUri, issuers: [ISSUER], audiences: ['client-a'], algorithms: ['RS256'], timeoutMs: 300, ...overrides })

async function sign (claims: JWTPayload, key = privateKey, header: { kid?: string } = { kid: 'k1' }): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ iss: ISSUER, aud: 'client-a', sub: '42', iat: now, exp: now + 600, nonce: 'n1', ...claims })
    .setProtectedHeader({ alg: 'RS256', ...header })
    .sign(key)
}

async function failure (promise: Promise<unknown>): Promise<LoginFlowError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof LoginFlowError) return error
    throw error
  }
  throw new Error('expected a LoginFlowError')
}

t.test('a valid token gives its claims; the keys are fetched once and cached', async t => {
  const verifier = createIdTokenVerifier(options())
  const claims = await verifier.verify(await sign({ email: 'a@example.com' }), { nonce: 'n1' })
  t.equal(claims.sub, '42')
  t.equal(claims.email, 'a@example.com')
  await verifier.verify(await sign({}), { nonce: 'n1' })
  t.equal(jwksCalls, 1, 'one JWKS fetch for two tokens')
})

t.test('every rule refuses with provider_token_error and says which', async t => {
  const verifier = createIdTokenVerifier(options({ issuers: [ISSUER, 'issuer.example'], audiences: ['client-a', 'client-b'] }))
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, Promise<string>, string | string[] | null, RegExp]> = [
    ['another nonce', sign({ nonce: 'other' }), 'n1', /nonce does not match/],
    ['no nonce claim while one was sent', sign({ nonce: undefined }), 'n1', /nonce does not match/],
    ['another audience', sign({ aud: 'client-c' }), 'n1', /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['another issuer', sign({ iss: 'https://evil.example' }), 'n1', /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['expired', sign({ iat: now - 7200, exp: now - 3600 }), 'n1', /ERR_JWT_EXPIRED/],
    ['signed by a key not in the JWKS', sign({}, stranger.privateKey), 'n1', /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
    ['without exp', sign({ exp: undefined }), 'n1', /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['an empty sub', sign({ sub: '' }), 'n1', /sub/],
    ['several audiences, azp not ours', sign({ aud: ['client-a', 'client-c'], azp: 'client-c' }), 'n1', /azp/],
    ['several audiences, no azp', sign({ aud: ['client-a', 'client-c'] }), 'n1', /azp/]
  ]
  for (const [name, token, nonce, reason] of cases) {
    const error = await failure(verifier.verify(await token, { nonce }))
    t.equal(error.code, 'provider_token_error', name)
    t.match(error.message, reason, `${name}: ${error.message}`)
    t.match(error.message, /^Test id_token rejected: /)
  }
})

t.test('what passes: a listed issuer spelling, several audiences with our azp, a nonce among several, no nonce check when none was sent', async t => {
  const verifier = createIdTokenVerifier(options({ issuers: [ISSUER, 'issuer.example'], audiences: ['client-a', 'client-b'] }))
  t.equal((await verifier.verify(await sign({ iss: 'issuer.example' }), { nonce: 'n1' })).sub, '42')
  t.equal((await verifier.verify(await sign({ aud: ['client-a', 'client-c'], azp: 'client-a' }), { nonce: 'n1' })).sub, '42')
  t.equal((await verifier.verify(await sign({ aud: 'client-b' }), { nonce: 'n1' })).sub, '42', 'a second audience (a native app key)')
  t.equal((await verifier.verify(await sign({ nonce: 'hashed' }), { nonce: ['raw', 'hashed'] })).sub, '42')
  t.equal((await verifier.verify(await sign({ nonce: undefined }), { nonce: null })).sub, '42')
})

t.test('authorizedParties widens azp beyond the audiences (an Android client id)', async t => {
  const verifier = createIdTokenVerifier(options({ authorizedParties: ['client-a', 'android-client'] }))
  t.equal((await verifier.verify(await sign({ aud: ['client-a', 'x'], azp: 'android-client' }), { nonce: 'n1' })).sub, '42')
})

t.test('algorithms: HMAC and none are never accepted', async t => {
  t.throws(() => createIdTokenVerifier(options({ algorithms: ['HS256', 'none'] })), /no asymmetric id_token algorithm/)
  const verifier = createIdTokenVerifier(options({ algorithms: ['ES256'] }))
  t.match((await failure(verifier.verify(await sign({}), { nonce: 'n1' }))).message, /ERR_JOSE_ALG_NOT_ALLOWED/, 'RS256 when only ES256 is allowed')
})

t.test('a JWKS that hangs is provider_timeout; one that fails is provider_token_error', async t => {
  jwksMode = 'hang'
  t.equal((await failure(createIdTokenVerifier(options()).verify(await sign({}), { nonce: 'n1' }))).code, 'provider_timeout')
  jwksMode = 'status500'
  t.equal((await failure(createIdTokenVerifier(options()).verify(await sign({}), { nonce: 'n1' }))).code, 'provider_token_error')
  const unreachable = createIdTokenVerifier(options({ jwksUri: 'http://127.0.0.1:1/jwks' }))
  t.equal((await failure(unreachable.verify(await sign({}), { nonce: 'n1' }))).code, 'provider_token_error')
})
