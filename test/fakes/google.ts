import { createHash, randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake Google (or any OpenID Connect issuer, under a path prefix) for the Google and OpenID
// Connect sections of docs/providers.md: discovery, a JWKS of RS256 keys it generates (and can
// rotate), authorize with state, nonce and PKCE, a token endpoint that checks client_secret_basic or
// _post, the verifier and the redirect_uri, and signs the id_token; userinfo too.

export interface GoogleAccount { sub: string, email?: string, email_verified?: boolean, name: string, given_name: string, picture: string }

export type IdTokenFault = 'none' | 'wrong_key' | 'wrong_aud' | 'wrong_nonce' | 'expired' | 'short_iss' | 'wrong_iss' | 'missing'

export interface FakeGoogle {
  issuer: string
  clientId: string
  clientSecret: string
  requests: RecordedRequest[]
  account: GoogleAccount
  authorize: 'approve' | 'deny'
  token: 'ok' | 'invalid_grant' | 'hang'
  /** Issue a refresh token with the code exchange (Google does for `access_type=offline` at first consent). */
  issueRefreshToken: boolean
  /** How a `grant_type=refresh_token` request behaves: Google answers a fresh access token, no new refresh token. */
  refresh: 'ok' | 'invalid_grant' | 'status500' | 'hang'
  /** Seconds each access token lives (Google: 3599). */
  expiresIn: number
  /** The token endpoint's last successful reply (code exchange or refresh), for tests to compare with what handoff kept. */
  lastTokenReply?: Record<string, unknown>
  idToken: IdTokenFault
  jwks: 'ok' | 'hang'
  /** Overrides fields of the discovery document (issuer mismatch, auth methods…). */
  discovery: Record<string, unknown>
  /** A new signing key: id_tokens use it from now on, the JWKS lists both. */
  rotateKey(): Promise<void>
  env: Record<string, string>
  close(): Promise<void>
  // --- native apps (issue 19) --------------------------------------------------------------------
  /** Client ids of the project's iOS and Android apps (GOOGLE_NATIVE_CLIENT_IDS). */
  iosClientId: string
  androidClientId: string
  /**
   * An id_token as Google Sign-In gives an app: iOS names its own client id as `aud`; Android (with
   * the web client id as server client id) names the web client id as `aud` and itself as `azp`.
   */
  sdkIdToken(claims: { aud: string, azp?: string, nonce?: string }): Promise<string>
  // --- end native apps ---------------------------------------------------------------------------
}

interface SigningKey { kid: string, privateKey: CryptoKey, jwk: JWK }
interface IssuedCode { redirectUri: string, nonce?: string, challenge?: string, used: boolean }

async function newKey (): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = randomBytes(8).toString('hex')
  return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' } }
}

export async function startFakeGoogle (options: { pathPrefix?: string } = {}): Promise<FakeGoogle> {
  const prefix = options.pathPrefix ?? ''
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const keys = [await newKey()]
  const strangerKey = await newKey()
  const codes = new Map<string, IssuedCode>()
  const tokens = new Map<string, string>()
  const refreshTokens = new Map<string, string>()
  const hang = () => new Promise<never>(() => {})
  let issuer = ''

  const fake = {
    clientId: '1234567890-fake.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-fake-secret',
    requests: recordRequests(app, { pathPrefix: prefix }),
    account: { sub: '110169484474386276334', email: 'gildong@gmail.com', email_verified: true, name: 'Gildong Hong', given_name: 'Gildong', picture: 'https://lh3.googleusercontent.com/a/fake' } as GoogleAccount,
    authorize: 'approve' as FakeGoogle['authorize'],
    token: 'ok' as FakeGoogle['token'],
    issueRefreshToken: false,
    refresh: 'ok' as FakeGoogle['refresh'],
    expiresIn: 3599,
    lastTokenReply: undefined as Record<string, unknown> | undefined,
    idToken: 'none' as IdTokenFault,
    jwks: 'ok' as FakeGoogle['jwks'],
    discovery: {} as Record<string, unknown>,
    rotateKey: async () => { keys.unshift(await newKey()) }
  }

  app.get(`${prefix}/.well-known/openid-configuration`, async () => ({
    issuer,
    authorization_endpoint: `${issuer}/o/oauth2/v2/auth`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/v1/userinfo`,
    jwks_uri: `${issuer}/oauth2/v3/certs`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['plain', 'S256'],
    ...fake.discovery
  }))

  app.get(`${prefix}/oauth2/v3/certs`, async () => fake.jwks === 'hang' ? hang() : { keys: keys.map(key => key.jwk) })

  app.get(`${prefix}/o/oauth2/v2/auth`, async (request, reply) => {
    const query = request.query as Record<string, string>
    if (query.client_id !== fake.clientId) return reply.code(400).type('text/html').send('<h1>Error 401: invalid_client</h1>')
    const back = new URL(query.redirect_uri)
    if (fake.authorize === 'deny') {
      back.searchParams.set('error', 'access_denied')
    } else {
      const code = `4/${randomBytes(16).toString('base64url')}`
      codes.set(code, { redirectUri: query.redirect_uri, nonce: query.nonce, challenge: query.code_challenge, used: false })
      back.searchParams.set('code', code)
      back.searchParams.set('scope', 'email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile')
      back.searchParams.set('authuser', '0')
      back.searchParams.set('prompt', 'consent')
    }
    back.searchParams.set('state', query.state)
    return reply.redirect(back.toString(), 302)
  })

  const clientCredentials = (headers: Record<string, string | string[] | undefined>, body: Record<string, string>): [string?, string?] => {
    const basic = /^Basic (\S+)$/.exec(String(headers.authorization ?? ''))
    if (basic === null) return [body.client_id, body.client_secret]
    const [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':').map(part => decodeURIComponent(part.replace(/\+/g, ' ')))
    return [id, secret]
  }

  async function signIdToken (nonce: string | undefined): Promise<string> {
    const fault = fake.idToken
    const key = fault === 'wrong_key' ? strangerKey : keys[0]
    const now = Math.floor(Date.now() / 1000)
    const claims = { ...fake.account, azp: fake.clientId, nonce: fault === 'wrong_nonce' ? 'not-the-nonce' : nonce, at_hash: 'fake' }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(fault === 'short_iss' ? issuer.replace(/^https?:\/\//, '') : fault === 'wrong_iss' ? 'https://evil.example' : issuer)
      .setAudience(fault === 'wrong_aud' ? 'someone-else.apps.googleusercontent.com' : fake.clientId)
      .setSubject(fake.account.sub)
      .setIssuedAt(fault === 'expired' ? now - 7200 : now)
      .setExpirationTime(fault === 'expired' ? now - 3600 : now + 3600)
      .sign(key.privateKey)
  }

  app.post(`${prefix}/token`, async (request, reply) => {
    const body = request.body as Record<string, string>
    const error = (status: number, code: string, description: string) => reply.code(status).send({ error: code, error_description: description })
    if (fake.token === 'hang') return hang()
    const [id, secret] = clientCredentials(request.headers, body)
    if (id !== fake.clientId || secret !== fake.clientSecret) return error(401, 'invalid_client', 'Unauthorized')
    if (body.grant_type === 'refresh_token') {
      if (fake.refresh === 'hang') return hang()
      if (fake.refresh === 'status500') return reply.code(500).type('text/html').send('<h1>Server Error</h1>')
      const sub = refreshTokens.get(body.refresh_token)
      if (fake.refresh === 'invalid_grant' || sub === undefined) return error(400, 'invalid_grant', 'Token has been expired or revoked.')
      const accessToken = `ya29.${randomBytes(24).toString('base64url')}`
      tokens.set(accessToken, sub)
      fake.lastTokenReply = { access_token: accessToken, expires_in: fake.expiresIn, scope: 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile', token_type: 'Bearer' }
      return fake.lastTokenReply
    }
    const issued = codes.get(body.code)
    if (fake.token === 'invalid_grant' || issued === undefined || issued.used) return error(400, 'invalid_grant', 'Bad Request')
    issued.used = true
    if (body.redirect_uri !== issued.redirectUri) return error(400, 'redirect_uri_mismatch', 'Bad Request')
    if (issued.challenge !== undefined && createHash('sha256').update(body.code_verifier ?? '').digest('base64url') !== issued.challenge) return error(400, 'invalid_grant', 'Bad Request')
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`
    tokens.set(accessToken, fake.account.sub)
    const refreshToken = fake.issueRefreshToken ? `1//${randomBytes(24).toString('base64url')}` : undefined
    if (refreshToken !== undefined) refreshTokens.set(refreshToken, fake.account.sub)
    fake.lastTokenReply = {
      access_token: accessToken,
      expires_in: fake.expiresIn,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      scope: 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
      token_type: 'Bearer',
      ...(fake.idToken === 'missing' ? {} : { id_token: await signIdToken(issued.nonce) })
    }
    return fake.lastTokenReply
  })

  app.get(`${prefix}/v1/userinfo`, async (request, reply) => {
    const match = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))
    if (match === null || !tokens.has(match[1])) return reply.code(401).send({ error: 'invalid_request', error_description: 'Invalid Credentials' })
    return fake.account
  })

  // --- native apps (issue 19) --------------------------------------------------------------------
  const native = {
    iosClientId: '1234567890-ios.apps.googleusercontent.com',
    androidClientId: '1234567890-android.apps.googleusercontent.com',
    async sdkIdToken ({ aud, azp, nonce }: { aud: string, azp?: string, nonce?: string }) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ ...fake.account, ...(azp === undefined ? {} : { azp }), ...(nonce === undefined ? {} : { nonce }) })
        .setProtectedHeader({ alg: 'RS256', kid: keys[0].kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(aud)
        .setSubject(fake.account.sub)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(keys[0].privateKey)
    }
  }
  // --- end native apps ---------------------------------------------------------------------------

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  issuer = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}${prefix}`
  return Object.assign(fake, native, {
    issuer,
    env: { GOOGLE_CLIENT_ID: fake.clientId, GOOGLE_CLIENT_SECRET: fake.clientSecret, GOOGLE_ISSUER: issuer },
    close: async () => { await app.close() }
  })
}
