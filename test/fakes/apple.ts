import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake Sign in with Apple for the Apple section of docs/providers.md. Authorize answers a page that
// auto-POSTs the result (form_post) to redirect_uri from the fake's own origin, with `user` (the name,
// as a JSON string) on the first authorization of an account only. The token endpoint checks our
// client secret as Apple does (an ES256 JWT over the team's key: kid, iss, sub, aud, lifetime), the code,
// its client and redirect_uri, and signs an RS256 id_token (Apple's booleans as strings by default);
// refresh grants; revoke (200, empty body, also for an unknown token); the JWKS; and server-to-server
// notifications signed like Apple's (`events` a JSON string, as real deliveries carry it).
// An app's side too: the identityToken and authorizationCode of an ASAuthorizationAppleIDCredential,
// issued to a bundle id (appIds) without redirect_uri; the code is exchanged, and its tokens refreshed
// and revoked, only as that bundle id with a client secret whose `sub` is it.

export interface AppleAccount {
  sub: string
  email?: string
  /** Apple sends "true"/"false" strings on the web, booleans elsewhere: both are served. */
  email_verified?: string | boolean
  is_private_email?: string | boolean
  firstName?: string
  lastName?: string
}

export type AppleIdTokenFault = 'none' | 'wrong_key' | 'wrong_aud' | 'wrong_nonce' | 'expired' | 'wrong_iss' | 'missing'

export interface AppleEvent { type: string, sub: string, event_time?: number, email?: string, is_private_email?: string | boolean }

export interface NotificationOptions {
  aud?: string
  iss?: string
  /** Apple's examples carry `events` as an object; real deliveries as a JSON string (the default). */
  eventsAsObject?: boolean
  /** `events` exactly as given (malformed-notification tests). */
  eventsOverride?: string
  key?: 'apple' | 'stranger'
}

export interface FakeApple {
  /** The fake's origin: the issuer of its id_tokens and what APPLE_AUTH_URL points at. */
  issuer: string
  clientId: string
  teamId: string
  keyId: string
  /** The team's App IDs (bundle ids): client ids for its apps' codes, besides the Services ID. */
  appIds: Set<string>
  /** The team's .p8 key, PEM, as Apple hands it out: handoff signs client secrets with it. */
  privateKeyPem: string
  requests: RecordedRequest[]
  account: AppleAccount
  /** Accounts that authorized this client before: they get no `user` field any more. */
  authorized: Set<string>
  /** Overrides the `user` form field (any string, for sanitizing tests); undefined: Apple's own. */
  userField?: string
  /** `hold`: the person stays on Apple's page (an abandoned login): nothing is posted back. */
  authorize: 'approve' | 'deny' | 'hold'
  /** `unavailable`: a 503 with an HTML page, as a load balancer in front of Apple answers; `unavailable-json`: a 500 with an `error` field. */
  token: 'ok' | 'invalid_grant' | 'hang' | 'unavailable' | 'unavailable-json'
  idToken: AppleIdTokenFault
  /** `garbage`: the keys endpoint answers something that is no JWKS. */
  jwks: 'ok' | 'hang' | 'garbage'
  revoke: 'ok' | 'invalid_client' | 'hang'
  /** The decoded client secrets handoff sent, in order. */
  clientSecrets: Array<{ header: Record<string, unknown>, claims: JWTPayload }>
  /** Tokens revoked at /auth/revoke, with their hint. */
  revoked: Array<{ token: string, hint?: string }>
  /** Refresh tokens issued and not revoked. */
  refreshTokens: Set<string>
  /** The client id each refresh token was issued to (the Services ID, or a bundle id for an app's code). */
  refreshTokenClients: Map<string, string>
  /** The identityToken Sign in with Apple gives an app: `aud` its bundle id, `nonce` as the app passed it (usually SHA-256 hex). */
  sdkIdToken(options: { nonce: string, aud?: string, key?: 'apple' | 'stranger', expired?: boolean }): Promise<string>
  /**
   * The authorizationCode of the same credential: issued to the bundle id `aud` (default
   * com.example.ios) for `sub` (default the account's), with no redirect_uri; single use.
   */
  appAuthorizationCode(options?: { aud?: string, sub?: string, nonce?: string }): string
  /** A notification JWT as Apple signs it; `events` JSON-encoded unless `eventsAsObject`. */
  signNotification(event: AppleEvent, options?: NotificationOptions): Promise<string>
  env: Record<string, string>
  close(): Promise<void>
}

interface SigningKey { kid: string, privateKey: CryptoKey, jwk: JWK }
/** `redirectUri` undefined: an app's code, which Apple issues without one (and exchanges only without one). */
interface IssuedCode { clientId: string, redirectUri?: string, nonce?: string, sub: string, used: boolean }

async function newKey (): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = randomBytes(5).toString('hex').toUpperCase()
  return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' } }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

/** Apple's page after consent: a form that posts itself to redirect_uri. */
const autoPostPage = (action: string, fields: Record<string, string>) => `<!doctype html><html><head><title>Sign in with Apple</title></head><body>
<form method="post" action="${escapeHtml(action)}">${Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`).join('')}</form>
<script>document.forms[0].submit()</script></body></html>`

export async function startFakeApple (options: { host?: string } = {}): Promise<FakeApple> {
  const host = options.host ?? '127.0.0.1'
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const appleKey = await newKey()
  const strangerKey = await newKey()
  // The team's Sign in with Apple key: Apple keeps the public half, the developer downloads the .p8.
  const team: { privateKey: KeyObject, publicKey: KeyObject } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const codes = new Map<string, IssuedCode>()
  const hang = () => new Promise<never>(() => {})
  let issuer = ''

  const newCode = () => `c${randomBytes(16).toString('hex')}.0.${randomBytes(4).toString('hex')}`
  const fake = {
    clientId: 'com.example.web',
    appIds: new Set(['com.example.ios', 'com.example.mac']),
    teamId: 'TEAM123456',
    keyId: 'KEY1234567',
    privateKeyPem: team.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    requests: recordRequests(app),
    account: { sub: '001234.5b3a3bdf9c0b4f049c1471cae1cd1d8d.0001', email: 'gildong@example.com', email_verified: 'true', is_private_email: 'false', firstName: 'Gildong', lastName: 'Hong' } as AppleAccount,
    authorized: new Set<string>(),
    userField: undefined as string | undefined,
    authorize: 'approve' as FakeApple['authorize'],
    token: 'ok' as FakeApple['token'],
    idToken: 'none' as AppleIdTokenFault,
    jwks: 'ok' as FakeApple['jwks'],
    revoke: 'ok' as FakeApple['revoke'],
    clientSecrets: [] as FakeApple['clientSecrets'],
    revoked: [] as FakeApple['revoked'],
    refreshTokens: new Set<string>(),
    refreshTokenClients: new Map<string, string>(),
    appAuthorizationCode (options: { aud?: string, sub?: string, nonce?: string } = {}) {
      const code = newCode()
      codes.set(code, { clientId: options.aud ?? 'com.example.ios', nonce: options.nonce, sub: options.sub ?? fake.account.sub, used: false })
      return code
    },
    async sdkIdToken (options: { nonce: string, aud?: string, key?: 'apple' | 'stranger', expired?: boolean }) {
      const key = options.key === 'stranger' ? strangerKey : appleKey
      const now = Math.floor(Date.now() / 1000)
      const { email, email_verified: emailVerified, is_private_email: isPrivateEmail } = fake.account
      return new SignJWT({ nonce: options.nonce, nonce_supported: true, real_user_status: 2, ...(email === undefined ? {} : { email, email_verified: emailVerified, is_private_email: isPrivateEmail }) })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(issuer)
        .setAudience(options.aud ?? 'com.example.ios')
        .setSubject(fake.account.sub)
        .setIssuedAt(options.expired === true ? now - 7200 : now)
        .setExpirationTime(options.expired === true ? now - 3600 : now + 600)
        .sign(key.privateKey)
    },
    async signNotification (event: AppleEvent, options: NotificationOptions = {}) {
      const key = options.key === 'stranger' ? strangerKey : appleKey
      const events = { event_time: Date.now(), ...event }
      return new SignJWT({ events: options.eventsOverride ?? (options.eventsAsObject === true ? events : JSON.stringify(events)) })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(options.iss ?? issuer)
        .setAudience(options.aud ?? fake.clientId)
        .setIssuedAt()
        .setJti(randomUUID())
        .sign(key.privateKey)
    }
  }

  app.get('/auth/keys', async (_request, reply) => fake.jwks === 'hang' ? hang() : fake.jwks === 'garbage' ? reply.type('text/html').send('<h1>502 Bad Gateway</h1>') : { keys: [appleKey.jwk] })

  app.get('/auth/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>
    const page = (status: number, text: string) => reply.code(status).type('text/html').send(`<h1>${escapeHtml(text)}</h1>`)
    // Apple shows its own error page for a bad request: nothing goes back to the site.
    if (query.client_id !== fake.clientId) return page(400, 'invalid_client')
    if (query.response_type !== 'code') return page(400, 'unsupported_response_type')
    if (query.scope !== undefined && query.scope !== '' && query.response_mode !== 'form_post') return page(400, 'response_mode must be form_post when name or email scope is requested')
    let back: URL
    try { back = new URL(query.redirect_uri) } catch { return page(400, 'invalid redirect_uri') }
    if (fake.authorize === 'hold') return reply.type('text/html; charset=utf-8').send('<h1>Sign in with Apple</h1>')
    const fields: Record<string, string> = {}
    if (fake.authorize === 'deny') {
      fields.error = 'user_cancelled_authorize'
    } else {
      const code = newCode()
      codes.set(code, { clientId: query.client_id, redirectUri: query.redirect_uri, nonce: query.nonce, sub: fake.account.sub, used: false })
      fields.code = code
      const first = !fake.authorized.has(fake.account.sub)
      fake.authorized.add(fake.account.sub)
      const user = fake.userField ?? (first ? JSON.stringify({ name: { firstName: fake.account.firstName, lastName: fake.account.lastName }, email: fake.account.email }) : undefined)
      if (user !== undefined) fields.user = user
    }
    if (query.state !== undefined) fields.state = query.state
    return reply.type('text/html; charset=utf-8').send(autoPostPage(back.toString(), fields))
  })

  /** Apple's check of a client secret: the team's key, our kid, iss, sub = client_id (the Services ID or an App ID), aud, at most six months. */
  async function clientSecretValid (clientId: string | undefined, secret: string | undefined): Promise<boolean> {
    if (clientId === undefined || (clientId !== fake.clientId && !fake.appIds.has(clientId)) || secret === undefined) return false
    try {
      const header = decodeProtectedHeader(secret)
      const { payload } = await jwtVerify(secret, team.publicKey, { algorithms: ['ES256'], issuer: fake.teamId, subject: clientId, audience: 'https://appleid.apple.com' })
      fake.clientSecrets.push({ header: header as Record<string, unknown>, claims: payload })
      return header.kid === fake.keyId && typeof payload.iat === 'number' && typeof payload.exp === 'number' && payload.exp - payload.iat <= 15_777_000
    } catch {
      return false
    }
  }

  async function signIdToken (nonce: string | undefined, sub: string, aud: string): Promise<string> {
    const fault = fake.idToken
    const key = fault === 'wrong_key' ? strangerKey : appleKey
    const now = Math.floor(Date.now() / 1000)
    const { email, email_verified: emailVerified, is_private_email: isPrivateEmail } = fake.account
    const claims = {
      nonce: fault === 'wrong_nonce' ? 'not-the-nonce' : nonce,
      nonce_supported: true,
      auth_time: now,
      ...(email === undefined ? {} : { email, email_verified: emailVerified, is_private_email: isPrivateEmail })
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(fault === 'wrong_iss' ? 'https://evil.example' : issuer)
      .setAudience(fault === 'wrong_aud' ? 'com.someone.else' : aud)
      .setSubject(sub)
      .setIssuedAt(fault === 'expired' ? now - 7200 : now)
      .setExpirationTime(fault === 'expired' ? now - 3600 : now + 600)
      .sign(key.privateKey)
  }

  app.post('/auth/token', async (request, reply) => {
    const body = request.body as Record<string, string>
    const error = (code: string) => reply.code(400).send({ error: code })
    if (fake.token === 'hang') return hang()
    if (fake.token === 'unavailable') return reply.code(503).type('text/html').send('<html><body>Service Unavailable</body></html>')
    if (fake.token === 'unavailable-json') return reply.code(500).send({ error: 'server_error' })
    if (!await clientSecretValid(body.client_id, body.client_secret)) return error('invalid_client')
    if (fake.token === 'invalid_grant') return error('invalid_grant')
    const accessToken = `a${randomBytes(16).toString('hex')}.0.abcd.${randomBytes(16).toString('base64url')}`
    if (body.grant_type === 'refresh_token') {
      // A refresh token works only for the client it was issued to.
      if (!fake.refreshTokens.has(body.refresh_token) || fake.refreshTokenClients.get(body.refresh_token) !== body.client_id) return error('invalid_grant')
      // A refresh reply has no new refresh token.
      return { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, id_token: await signIdToken(undefined, fake.account.sub, body.client_id) }
    }
    if (body.grant_type !== 'authorization_code') return error('unsupported_grant_type')
    const issued = codes.get(body.code)
    if (issued === undefined || issued.used || issued.clientId !== body.client_id) return error('invalid_grant')
    issued.used = true
    if (body.redirect_uri !== issued.redirectUri) return error('invalid_grant')
    const refreshToken = `r${randomBytes(16).toString('hex')}.0.abcd.${randomBytes(16).toString('base64url')}`
    fake.refreshTokens.add(refreshToken)
    fake.refreshTokenClients.set(refreshToken, issued.clientId)
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: refreshToken,
      ...(fake.idToken === 'missing' ? {} : { id_token: await signIdToken(issued.nonce, issued.sub, issued.clientId) })
    }
  })

  app.post('/auth/revoke', async (request, reply) => {
    const body = request.body as Record<string, string>
    if (fake.revoke === 'hang') return hang()
    if (fake.revoke === 'invalid_client' || !await clientSecretValid(body.client_id, body.client_secret)) return reply.code(400).send({ error: 'invalid_client' })
    if (body.token === undefined || body.token === '') return reply.code(400).send({ error: 'invalid_request' })
    fake.revoked.push({ token: body.token, hint: body.token_type_hint })
    // Only the client a token was issued to revokes it; for another, as for an unknown token, Apple
    // still answers 200, and the token stays valid.
    if (fake.refreshTokenClients.get(body.token) === body.client_id) {
      fake.refreshTokens.delete(body.token)
      fake.refreshTokenClients.delete(body.token)
    }
    // Apple: 200 and an empty body, for a valid token and an invalid one alike.
    return reply.code(200).send('')
  })

  await app.listen({ host, port: 0 })
  const address = app.server.address()
  issuer = `http://${host}:${typeof address === 'object' && address !== null ? address.port : 0}`
  return Object.assign(fake, {
    issuer,
    env: {
      APPLE_CLIENT_ID: fake.clientId,
      APPLE_TEAM_ID: fake.teamId,
      APPLE_KEY_ID: fake.keyId,
      // One line with \n escapes, as in an env file.
      APPLE_PRIVATE_KEY: fake.privateKeyPem.trim().replace(/\n/g, '\\n'),
      APPLE_AUTH_URL: issuer
    },
    close: async () => { await app.close() }
  })
}
