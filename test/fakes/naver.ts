import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake Naver (nid + openapi on one host) for the Naver section of docs/providers.md: state
// mandatory, no PKCE, the token call's parameters read from the query or a form body, token errors
// with HTTP 200, `expires_in` as a string, the profile inside a resultcode/response envelope.
// After the login ("Naver: revoke, refresh, re-consent, unlink webhook" in providers.md, from
// github.com/naver/naver-openapi-guide ko/login/devguide/devguide.md §4.1.2, §4.3, §4.4): the refresh
// grant (never a new refresh token), the revoke endpoint (200 with no body, also for a token it does
// not know; revoking one token revokes its pair), and Naver's side of the unlink webhook, built from
// §4.4.2 and §4.4.3 (their Java samples), not from handoff's code.

export interface NaverUser { id: string, nickname: string, name: string, email?: string, profile_image: string }

export interface FakeNaver {
  origin: string
  clientId: string
  clientSecret: string
  requests: RecordedRequest[]
  user: NaverUser
  authorize: 'approve' | 'deny'
  token: 'ok' | 'invalid_request' | 'hang' | 'status500'
  profile: 'ok' | 'unauthorized' | 'hang' | 'resultcode_error'
  revoke: 'ok' | 'status503' | 'hang'
  /** Whether Naver still honours this access or refresh token; a revoke ends a pair. */
  isLive(token: string): boolean
  /** Each token whose pair the revoke endpoint revoked, in order. */
  revoked: string[]
  /** The tokens of the last code exchange. */
  lastTokens?: { accessToken: string, refreshToken: string }
  // ---- OpenID Connect endpoints and consent screens (see the block of the same name below) ----
  idToken: NaverIdTokenFault
  jwks: 'ok' | 'hang' | 'status500'
  /** The id_token's `sub`; undefined: the profile's `id` (Naver does not document whether they are equal). */
  sub: string | undefined
  /** The profile items the person unticks, one entry per consent screen, in order; then they agree to all. */
  declines: string[][]
  /** Profile items the person declined (`email`, `name`, `nickname`, `profile_image`): left out of /v1/nid/me. */
  withheld: Set<string>
  /** Whether the person went through the consent screen once: Naver shows it again only with auth_type=reprompt. */
  consented: boolean
  // ---- end of OpenID Connect endpoints and consent screens ----
  env: Record<string, string>
  /** Naver's unlink webhook (연결 끊기 알림) to the Callback URL registered in the console. */
  sendUnlinkWebhook(url: string, options: NaverUnlinkWebhook): Promise<{ status: number, body: string }>
  close(): Promise<void>
}

export interface NaverUnlinkWebhook {
  /** The profile's response.id. */
  userId: string
  /** Unix seconds; default now. */
  timestamp?: number
  /** `query`: the parameters in the POST's query string, as the guide's sample request has them. Default: the form body. */
  in?: 'body' | 'query'
  /** Sign and encrypt with another secret (a forger who does not know ours). */
  clientSecret?: string
  clientId?: string
  /** Changes the signed parameters before they are sent (drop, replace or corrupt one). */
  tamper?(params: Record<string, string>): void
}

/** §4.4.2/§4.4.3: the key is the first 16 bytes of MD5(client secret), for AES-128 and HMAC alike. */
const unlinkKey = (clientSecret: string) => createHash('md5').update(clientSecret).digest().subarray(0, 16)
/** commons-codec Base64.encodeBase64URLSafeString: the URL-safe alphabet, no padding. */
const urlSafe = (bytes: Buffer) => bytes.toString('base64url')

/** encryptUniqueId = base64( iv + aes128cbc_pkcs5( plaintext, key) ), the IV 16 random bytes. */
export function encryptNaverUniqueId (uniqueId: string, clientSecret: string): string {
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-128-cbc', unlinkKey(clientSecret), iv)
  return urlSafe(Buffer.concat([iv, cipher.update(uniqueId, 'utf8'), cipher.final()]))
}

/** HmacSHA256 over String.format("clientId=%s&encryptUniqueId=%s&timestamp=%s", …), URL-safe base64. */
export function signNaverUnlink (clientId: string, encryptUniqueId: string, timestamp: string, clientSecret: string): string {
  return urlSafe(createHmac('sha256', unlinkKey(clientSecret)).update(`clientId=${clientId}&encryptUniqueId=${encryptUniqueId}&timestamp=${timestamp}`).digest())
}

export async function startFakeNaver (): Promise<FakeNaver> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const codes = new Map<string, { state: string, used: boolean }>()
  const tokens = new Set<string>()
  const hang = () => new Promise<never>(() => {})
  // Known once listening; the id_tokens name it as their issuer.
  let origin = ''

  const fake = {
    clientId: 'fakeNaverClientId',
    clientSecret: 'fakeNaverSecret',
    requests: recordRequests(app),
    user: { id: 'Tq1lG8W1pHc7oR2xvC0Jv3p0c6pIh0oYgZbS6n5mPqs', nickname: 'OpenAPI', name: '오픈 API', email: 'openapi@naver.com', profile_image: 'https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif' } as NaverUser,
    authorize: 'approve' as FakeNaver['authorize'],
    token: 'ok' as FakeNaver['token'],
    profile: 'ok' as FakeNaver['profile'],
    revoke: 'ok' as FakeNaver['revoke'],
    isLive: (token: string) => tokens.has(token) || refreshTokens.has(token),
    revoked: [] as string[],
    lastTokens: undefined as FakeNaver['lastTokens'],
    idToken: 'none' as NaverIdTokenFault,
    jwks: 'ok' as FakeNaver['jwks'],
    sub: undefined as string | undefined,
    declines: [] as string[][],
    withheld: new Set<string>(),
    consented: false
  }
  // Each access token's refresh token: revoking either revokes both (§4.3).
  const pairs = new Map<string, string>()
  const refreshTokens = new Set<string>()
  /** Token issuance shared by the legacy and the OpenID Connect token endpoints, so revoke knows both. */
  const grants: Grants = {
    issue () {
      const accessToken = randomBytes(30).toString('base64')
      const refreshToken = randomBytes(30).toString('base64')
      tokens.add(accessToken)
      refreshTokens.add(refreshToken)
      pairs.set(accessToken, refreshToken)
      fake.lastTokens = { accessToken, refreshToken }
      return fake.lastTokens
    },
    refresh (refreshToken) {
      if (!refreshTokens.has(refreshToken)) return undefined
      const accessToken = randomBytes(30).toString('base64')
      tokens.add(accessToken)
      pairs.set(accessToken, refreshToken)
      return accessToken
    }
  }

  app.get('/oauth2.0/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>
    // Naver refuses an authorize request without state on its own page.
    if (query.client_id !== fake.clientId || query.state === undefined || query.state === '') return reply.code(400).type('text/html').send('<h1>잘못된 요청입니다</h1>')
    const back = new URL(query.redirect_uri)
    back.searchParams.set('state', query.state)
    if (fake.authorize === 'deny') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'Canceled By User')
    } else {
      showConsentScreen(fake, query.auth_type)
      const code = randomBytes(12).toString('base64url')
      codes.set(code, { state: query.state, used: false })
      back.searchParams.set('code', code)
    }
    return reply.redirect(back.toString(), 302)
  })

  app.route({
    method: ['GET', 'POST'],
    url: '/oauth2.0/token',
    handler: async (request, reply) => {
      const params = { ...(request.query as Record<string, string>), ...(request.body as Record<string, string> | undefined) }
      const error = (code: string, description: string) => ({ error: code, error_description: description })
      if (fake.token === 'hang') return hang()
      if (fake.token === 'status500') return reply.code(500).type('text/html').send('<html><body>500 Internal Server Error</body></html>')
      if (fake.token === 'invalid_request') return error('invalid_request', 'no valid data in session')
      if (params.client_id !== fake.clientId || params.client_secret !== fake.clientSecret) return error('invalid_client', 'client authentication failed')
      if (params.grant_type === 'refresh_token') {
        // §4.1.2: a new access token only; the refresh token stays the same. Naver's error for an
        // unknown or revoked refresh token is unconfirmed; its guide lists invalid_request for bad requests.
        const token = grants.refresh(params.refresh_token)
        if (token === undefined) return error('invalid_request', 'invalid refresh token')
        return { access_token: token, token_type: 'bearer', expires_in: '3600' }
      }
      const issued = codes.get(params.code)
      if (issued === undefined || issued.used || params.state !== issued.state) return error('invalid_request', 'no valid data in session')
      issued.used = true
      const { accessToken, refreshToken } = grants.issue()
      return { access_token: accessToken, refresh_token: refreshToken, token_type: 'bearer', expires_in: '3600' }
    }
  })

  // §4.3: judged by status; 200 with no body also for a token already revoked or unknown.
  app.post('/oauth2.0/revoke', async (request, reply) => {
    if (fake.revoke === 'hang') return hang()
    if (fake.revoke === 'status503') return reply.code(503).send({ error: 'temporarily_unavailable', error_description: 'Temporarily unavailable.' })
    const body = (request.body ?? {}) as Record<string, string>
    if (body.client_id === undefined || body.client_secret === undefined || body.token === undefined) return reply.code(400).send({ error: 'invalid_request', error_description: 'Required parameter is missing.' })
    if (body.client_id !== fake.clientId || body.client_secret !== fake.clientSecret) return reply.code(401).send({ error: 'unauthorized_client', error_description: 'Client authentication failed.' })
    // token_type_hint is only a hint (§4.3): whichever kind the token is, it and its pair end.
    if (tokens.has(body.token) || refreshTokens.has(body.token)) {
      fake.revoked.push(body.token)
      const refreshToken = refreshTokens.has(body.token) ? body.token : pairs.get(body.token)
      tokens.delete(body.token)
      if (refreshToken !== undefined) {
        refreshTokens.delete(refreshToken)
        // Every access token issued with this refresh token (at the login or by a refresh) ends with it.
        for (const [token, pair] of pairs) if (pair === refreshToken) tokens.delete(token)
      }
    }
    return reply.code(200).send()
  })

  app.get('/v1/nid/me', async (request, reply) => {
    if (fake.profile === 'hang') return hang()
    const match = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))
    if (fake.profile === 'unauthorized' || match === null || !tokens.has(match[1])) return reply.code(401).send({ resultcode: '024', message: 'Authentication failed / 인증에 실패했습니다.' })
    if (fake.profile === 'resultcode_error') return { resultcode: '028', message: 'Not Exist Authentication Header' }
    return { resultcode: '00', message: 'success', response: consentedUser(fake) }
  })

  await registerOidcEndpoints(app, fake, grants, () => origin)

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`

  /** §4.4.1: POST, application/x-www-form-urlencoded, expecting 204; Naver does not retry. */
  async function sendUnlinkWebhook (url: string, options: NaverUnlinkWebhook): Promise<{ status: number, body: string }> {
    const clientId = options.clientId ?? fake.clientId
    const secret = options.clientSecret ?? fake.clientSecret
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
    const encryptUniqueId = encryptNaverUniqueId(options.userId, secret)
    const params: Record<string, string> = { clientId, encryptUniqueId, timestamp, signature: signNaverUnlink(clientId, encryptUniqueId, timestamp, secret) }
    options.tamper?.(params)
    const form = new URLSearchParams(params).toString()
    const target = new URL(url)
    if (options.in === 'query') target.search = form
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: '*/*' },
      ...(options.in === 'query' ? {} : { body: form }),
      redirect: 'manual'
    })
    return { status: response.status, body: await response.text() }
  }

  return Object.assign(fake, {
    origin,
    env: { NAVER_CLIENT_ID: fake.clientId, NAVER_CLIENT_SECRET: fake.clientSecret, NAVER_AUTH_URL: origin, NAVER_API_URL: origin },
    sendUnlinkWebhook,
    close: async () => { await app.close() }
  })
}

// ---- OpenID Connect endpoints and consent screens ----
// Naver's OIDC section of docs/providers.md (devguide §3.5): /oauth2/authorize with `scope` containing
// `openid` and an optional S256 PKCE challenge, /oauth2/token (POST; the legacy parameters plus
// `code_verifier`; client errors as a 401 with `error`, unlike the legacy endpoint's HTTP 200), an
// RS256 id_token (iss https://nid.naver.com, here the fake's origin; aud the client id), keys at
// /oauth2/jwks. Naver documents no nonce: none is echoed. Consent screens: the first login shows one,
// later logins only with auth_type=reprompt; `declines` says what the person unticks on each.

export type NaverIdTokenFault = 'none' | 'wrong_key' | 'wrong_aud' | 'wrong_iss' | 'expired' | 'missing'

type ConsentFake = Pick<FakeNaver, 'declines' | 'withheld' | 'consented' | 'user'>

function showConsentScreen (fake: ConsentFake, authType: string | undefined): void {
  if (fake.consented && authType !== 'reprompt') return
  fake.consented = true
  fake.withheld = new Set(fake.declines.shift() ?? [])
}

function consentedUser (fake: ConsentFake): Partial<NaverUser> {
  return Object.fromEntries(Object.entries(fake.user).filter(([field]) => !fake.withheld.has(field)))
}

interface OidcCode { state: string, redirectUri: string, challenge?: string, used: boolean }

interface Grants {
  /** A new access and refresh token pair (a code exchange). */
  issue(): { accessToken: string, refreshToken: string }
  /** A new access token for a live refresh token, or undefined. */
  refresh(refreshToken: string): string | undefined
}

async function registerOidcEndpoints (app: FastifyInstance, fake: Omit<FakeNaver, 'origin' | 'env' | 'close' | 'sendUnlinkWebhook'>, grants: Grants, origin: () => string): Promise<void> {
  const codes = new Map<string, OidcCode>()
  const newKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const kid = randomBytes(8).toString('hex')
    return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' } }
  }
  const key = await newKey()
  const stranger = await newKey()

  app.route({
    method: ['GET', 'POST'],
    url: '/oauth2/authorize',
    handler: async (request, reply) => {
      const query = { ...(request.query as Record<string, string>), ...(request.body as Record<string, string> | undefined) }
      const scope = (query.scope ?? '').split(/[\s,]+/)
      if (query.client_id !== fake.clientId || query.state === undefined || query.state === '' || !scope.includes('openid')) return reply.code(400).type('text/html').send('<h1>잘못된 요청입니다</h1>')
      const back = new URL(query.redirect_uri)
      back.searchParams.set('state', query.state)
      if (query.code_challenge !== undefined && (query.code_challenge_method !== 'S256' || !/^[\w-]{43}$/.test(query.code_challenge))) {
        back.searchParams.set('error', 'invalid_request')
        back.searchParams.set('error_description', 'invalid code_challenge')
      } else if (fake.authorize === 'deny') {
        back.searchParams.set('error', 'access_denied')
        back.searchParams.set('error_description', 'Canceled By User')
      } else {
        showConsentScreen(fake, query.auth_type)
        const code = randomBytes(12).toString('base64url')
        codes.set(code, { state: query.state, redirectUri: query.redirect_uri, challenge: query.code_challenge, used: false })
        back.searchParams.set('code', code)
      }
      return reply.redirect(back.toString(), 302)
    }
  })

  app.post('/oauth2/token', async (request, reply) => {
    const params = { ...(request.query as Record<string, string>), ...(request.body as Record<string, string> | undefined) }
    const error = (status: number, code: string, description: string) => reply.code(status).send({ error: code, error_description: description })
    if (fake.token === 'hang') return new Promise<never>(() => {})
    if (fake.token === 'status500') return error(503, 'temporarily_unavailable', 'temporarily unavailable')
    if (params.client_id !== fake.clientId || params.client_secret !== fake.clientSecret) return error(401, 'invalid_client', 'Client authentication failed.')
    // §3.5.6 lists grant_type=refresh_token for this endpoint too; the error for a dead refresh token
    // is unconfirmed (RFC 6749's invalid_grant here). No new refresh token, as on the legacy endpoint.
    if (params.grant_type === 'refresh_token') {
      const refreshed = grants.refresh(params.refresh_token ?? '')
      return refreshed === undefined ? error(400, 'invalid_grant', 'invalid refresh token') : { access_token: refreshed, token_type: 'bearer', expires_in: '3600' }
    }
    const issued = codes.get(params.code)
    if (fake.token === 'invalid_request' || issued === undefined || issued.used || params.state !== issued.state) return error(400, 'invalid_request', 'no valid data in session')
    issued.used = true
    if (params.redirect_uri !== undefined && params.redirect_uri !== issued.redirectUri) return error(400, 'invalid_request', 'redirect_uri mismatch')
    if (issued.challenge !== undefined && createHash('sha256').update(params.code_verifier ?? '').digest('base64url') !== issued.challenge) return error(400, 'invalid_grant', 'code_verifier mismatch')
    const { accessToken: token, refreshToken } = grants.issue()
    const fault = fake.idToken
    const now = Math.floor(Date.now() / 1000)
    const signer = fault === 'wrong_key' ? stranger : key
    const idToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ: 'JWT' })
      .setIssuer(fault === 'wrong_iss' ? 'https://nid.naver.example' : origin())
      .setAudience(fault === 'wrong_aud' ? 'anotherNaverClientId' : fake.clientId)
      .setSubject(fake.sub ?? fake.user.id)
      .setIssuedAt(fault === 'expired' ? now - 7200 : now)
      .setExpirationTime(fault === 'expired' ? now - 3600 : now + 3600)
      .sign(signer.privateKey)
    return { access_token: token, refresh_token: refreshToken, token_type: 'bearer', expires_in: '3600', ...(fault === 'missing' ? {} : { id_token: idToken }) }
  })

  app.get('/oauth2/jwks', async (_request, reply: FastifyReply) => {
    if (fake.jwks === 'hang') return new Promise<never>(() => {})
    if (fake.jwks === 'status500') return reply.code(500).send({ error: 'internal' })
    return { keys: [key.jwk] }
  })
}
// ---- end of OpenID Connect endpoints and consent screens ----
