import { createHash, randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake Kakao (kauth + kapi on one host) for the Kakao section of docs/providers.md: comma-separated
// consent items in, space-separated scope out, KOE error codes with HTTP 400/401, an optional client
// secret, and /v2/user/me ids written as bare 64-bit integers (the raw JSON text is built by hand so
// an id above 2^53 goes over the wire exactly). PKCE as a PKCE server checks it (RFC 7636 §4.6): a
// code issued with an S256 challenge is exchanged only with the verifier that hashes to it; a
// missing or wrong verifier gets invalid_grant in Kakao's error format. Kakao's own KOE code for it
// is unconfirmed (docs/providers.md): KOE320, its code for a bad authorization code, stands in.
// After the login ("Kakao logout, unlink, token info" and "Kakao unlink webhook" in providers.md):
// the refresh grant (a new refresh token only when Kakao decides the old one is near its end), the
// admin-key unlink by user id (-101 for a user no longer linked), and Kakao's side of the unlink
// webhook: `sendUnlinkWebhook` calls the URL registered with it as Kakao's servers do.

export interface KakaoAccount {
  /** Decimal digits, written into the JSON as a bare number. */
  id: string
  nickname: string
  profileImage: string
  email?: string
  isEmailValid: boolean
  isEmailVerified: boolean
}

export interface FakeKakao {
  authUrl: string
  apiUrl: string
  clientId: string
  /** Undefined: the app did not enable "Client Secret". */
  clientSecret: string | undefined
  /** Consent items enabled in the console; asking for any other one shows KOE205 on Kakao's page. */
  consentItems: string[]
  requests: RecordedRequest[]
  account: KakaoAccount
  authorize: 'approve' | 'deny'
  token: 'ok' | 'KOE320' | 'hang' | 'status500'
  profile: 'ok' | 'unauthorized' | 'hang' | 'garbage'
  /** `rotate`: the refresh grant also returns a new refresh token (the old one had under a month left). */
  refresh: 'ok' | 'rotate' | 'status500'
  unlink: 'ok' | 'status500' | 'hang'
  /** The app's primary admin key, as the console shows it (the app id is `appId`, below). */
  adminKey: string
  /** The tokens of the last code exchange. */
  lastTokens?: { accessToken: string, refreshToken: string }
  /** Users linked to the app: a login links, an unlink (ours or the person's) removes. */
  linked: Set<string>
  // ---- OpenID Connect mode and consent screens (see the block of the same name below) ----
  /** [OpenID Connect 활성화] in the console: token replies for a scope with `openid` carry an id_token. */
  oidc: boolean
  idToken: KakaoIdTokenFault
  jwks: 'ok' | 'hang' | 'status500'
  /** The consent items the person unticks, one entry per consent screen, in order; then they agree to all. */
  declines: string[][]
  /** Consent items the person declined: their fields are left out of /v2/user/me and the id_token. */
  withheld: Set<string>
  /** Consent items the person agreed to on an earlier screen (Kakao remembers them across logins). */
  agreed: Set<string>
  /** The nonces the authorize requests carried, in order. */
  nonces: Array<string | undefined>
  // ---- end of OpenID Connect mode and consent screens ----
  env: Record<string, string>
  /** KAKAO_ADMIN_KEY and KAKAO_APP_ID pointing at this app. */
  adminEnv: Record<string, string>
  /** Kakao's unlink webhook, as Kakao sends it to the URL registered in the console: GET (query) or POST (form). */
  sendUnlinkWebhook(url: string, options: UnlinkWebhook): Promise<WebhookResult>
  close(): Promise<void>
  // --- native apps (issue 19): what Kakao's SDKs get on a device -------------------------------
  /** The app's native app key: the `aud` of the id_tokens its SDK logins get (KAKAO_NATIVE_APP_KEYS). */
  nativeAppKey: string
  /** The app's numeric id, as /v1/user/access_token_info names it (KAKAO_APP_ID). */
  appId: string
  /** /v1/user/access_token_info: answer, hang, or fail on Kakao's side (400, code -1). */
  tokenInfo: 'ok' | 'hang' | 'transient'
  /** An id_token as Kakao's SDK gets it (OIDC on): RS256 with a key of /.well-known/jwks.json; any claim overridable. */
  sdkIdToken(claims?: { aud?: string, nonce?: string, sub?: string, iss?: string, exp?: number, email?: string }, options?: { strangerKey?: boolean }): Promise<string>
  /** An access token as Kakao's SDK gets it, issued to `appId` (another app's with another id); /v2/user/me answers it. */
  sdkAccessToken(appId?: string): string
  // --- end native apps ---------------------------------------------------------------------------
}

export interface UnlinkWebhook {
  method?: 'GET' | 'POST'
  userId: string
  referrerType?: string
  /** Default: the fake's own; another key or null (no header) for forged calls. */
  adminKey?: string | null
  appId?: string
}

export interface WebhookResult { status: number, body: string, elapsedMs: number }

/** Kakao gives the service 3 seconds to answer its webhooks. */
const WEBHOOK_TIMEOUT_MS = 3000

interface IssuedCode { redirectUri: string, scope: string[], challenge?: string, nonce?: string, used: boolean }

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/

export async function startFakeKakao (): Promise<FakeKakao> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const codes = new Map<string, IssuedCode>()
  const tokens = new Set<string>()
  const hang = () => new Promise<never>(() => {})

  const fake = {
    clientId: 'fake-kakao-rest-api-key',
    clientSecret: undefined as string | undefined,
    consentItems: ['profile_nickname', 'profile_image'],
    requests: recordRequests(app),
    account: { id: '4287654321', nickname: '홍길동', profileImage: 'http://k.kakaocdn.net/dn/img_640x640.jpg', isEmailValid: true, isEmailVerified: true } as KakaoAccount,
    authorize: 'approve' as FakeKakao['authorize'],
    token: 'ok' as FakeKakao['token'],
    profile: 'ok' as FakeKakao['profile'],
    refresh: 'ok' as FakeKakao['refresh'],
    unlink: 'ok' as FakeKakao['unlink'],
    adminKey: 'fake-kakao-primary-admin-key',
    linked: new Set<string>(),
    lastTokens: undefined as FakeKakao['lastTokens'],
    oidc: false,
    idToken: 'none' as KakaoIdTokenFault,
    jwks: 'ok' as FakeKakao['jwks'],
    declines: [] as string[][],
    withheld: new Set<string>(),
    agreed: new Set<string>(),
    nonces: [] as Array<string | undefined>
  }
  const refreshTokens = new Set<string>()
  const newRefreshToken = () => {
    const token = randomBytes(30).toString('base64url')
    refreshTokens.add(token)
    return token
  }
  const oidc = await oidcMode(fake)

  app.get('/oauth/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>
    if (query.client_id !== fake.clientId) return reply.code(400).type('text/html').send('<h1>KOE101</h1>')
    const scope = (query.scope ?? '').split(',').filter(Boolean)
    const missing = scope.filter(item => item !== 'openid' && !fake.consentItems.includes(item))
    // Kakao shows this on its own page; the browser never comes back to the app.
    if (missing.length > 0) return reply.code(400).type('text/html').send(`<h1>잘못된 요청 (KOE205)</h1><p>설정하지 않은 동의 항목: ${missing.join(',')}</p>`)
    const back = new URL(query.redirect_uri)
    // Kakao's discovery document lists S256 only; RFC 7636 §4.4.1 answers anything else this way.
    const badPkce = query.code_challenge !== undefined && (query.code_challenge_method !== 'S256' || !/^[\w-]{43}$/.test(query.code_challenge))
    if (badPkce) {
      back.searchParams.set('error', 'invalid_request')
      back.searchParams.set('error_description', 'code_challenge_method not supported')
    } else if (fake.authorize === 'deny') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'User denied access')
    } else {
      oidc.showConsentScreen(scope)
      const code = randomBytes(16).toString('base64url')
      codes.set(code, { redirectUri: query.redirect_uri, scope, challenge: query.code_challenge, nonce: oidc.recordNonce(query.nonce), used: false })
      back.searchParams.set('code', code)
    }
    if (query.state !== undefined) back.searchParams.set('state', query.state)
    return reply.redirect(back.toString(), 302)
  })

  app.post('/oauth/token', async (request, reply) => {
    const body = request.body as Record<string, string>
    const error = (status: number, error: string, description: string, code: string) => reply.code(status).send({ error, error_description: description, error_code: code })
    if (fake.token === 'hang') return hang()
    if (fake.token === 'status500') return reply.code(500).type('text/html').send('<h1>Internal Server Error</h1>')
    if (body.client_id !== fake.clientId) return error(401, 'invalid_client', 'Not exist client_id', 'KOE101')
    if (fake.clientSecret !== undefined && body.client_secret !== fake.clientSecret) return error(401, 'invalid_client', 'Bad client credentials', 'KOE010')
    if (fake.clientSecret === undefined && body.client_secret !== undefined) return error(401, 'invalid_client', 'Bad client credentials', 'KOE010')
    if (body.grant_type === 'refresh_token') {
      if (fake.refresh === 'status500') return reply.code(500).type('text/html').send('<h1>Internal Server Error</h1>')
      // KOE322 for an unknown or expired refresh token is unconfirmed; invalid_grant is RFC 6749's.
      if (!refreshTokens.has(body.refresh_token)) return error(400, 'invalid_grant', 'invalid refresh token', 'KOE322')
      const token = randomBytes(30).toString('base64url')
      tokens.add(token)
      const renewed = fake.refresh === 'rotate' ? { refresh_token: newRefreshToken(), refresh_token_expires_in: 5183999 } : {}
      return { token_type: 'bearer', access_token: token, expires_in: 21599, ...renewed }
    }
    const issued = codes.get(body.code)
    if (fake.token === 'KOE320' || issued === undefined || issued.used) return error(400, 'invalid_grant', `authorization code not found for code=${body.code}`, 'KOE320')
    issued.used = true
    if (body.redirect_uri !== issued.redirectUri) return error(400, 'invalid_grant', 'Redirect URI mismatch.', 'KOE303')
    if (issued.challenge !== undefined) {
      const verifier = body.code_verifier ?? ''
      const computed = createHash('sha256').update(verifier).digest('base64url')
      if (!VERIFIER.test(verifier) || computed !== issued.challenge) return error(400, 'invalid_grant', 'code_verifier does not match code_challenge', 'KOE320')
    }
    const token = randomBytes(30).toString('base64url')
    tokens.add(token)
    fake.lastTokens = { accessToken: token, refreshToken: newRefreshToken() }
    return { token_type: 'bearer', access_token: token, expires_in: 21599, refresh_token: fake.lastTokens.refreshToken, refresh_token_expires_in: 5183999, scope: issued.scope.join(' '), ...await oidc.idTokenFields(issued) }
  })

  // The admin-key form of the unlink API: the service names the user, no token of theirs needed.
  app.post('/v1/user/unlink', async (request, reply) => {
    if (fake.unlink === 'hang') return hang()
    if (fake.unlink === 'status500') return reply.code(500).type('text/html').send('<h1>Internal Server Error</h1>')
    if (request.headers.authorization !== `KakaoAK ${fake.adminKey}`) return reply.code(401).send({ msg: 'wrong appKey(admin key) type', code: -401 })
    const body = (request.body ?? {}) as Record<string, string>
    if (body.target_id_type !== 'user_id' || !/^\d+$/.test(body.target_id ?? '')) return reply.code(400).send({ msg: 'target_id_type and target_id are required', code: -2 })
    if (!fake.linked.delete(body.target_id)) return reply.code(400).send({ msg: 'NotRegisteredUserException', code: -101 })
    return reply.type('application/json;charset=UTF-8').send(`{"id":${body.target_id}}`)
  })

  app.route({
    method: ['GET', 'POST'],
    url: '/v2/user/me',
    handler: async (request, reply) => {
      if (fake.profile === 'hang') return hang()
      if (fake.profile === 'garbage') return reply.type('application/json').send('<html>oops')
      const match = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))
      if (fake.profile === 'unauthorized' || match === null || !tokens.has(match[1])) return reply.code(401).send({ msg: 'this access token does not exist', code: -401 })
      const { id, nickname, profileImage, email, isEmailValid, isEmailVerified } = oidc.consentedAccount()
      fake.linked.add(id)
      const account = {
        profile_nickname_needs_agreement: nickname === undefined,
        profile_image_needs_agreement: profileImage === undefined,
        profile: { nickname, thumbnail_image_url: profileImage, profile_image_url: profileImage, is_default_image: false, is_default_nickname: false },
        ...(email === undefined
          ? { email_needs_agreement: true }
          : { email_needs_agreement: false, has_email: true, is_email_valid: isEmailValid, is_email_verified: isEmailVerified, email })
      }
      const rest = JSON.stringify({ connected_at: '2024-07-19T02:48:12Z', properties: { nickname, profile_image: profileImage, thumbnail_image: profileImage }, kakao_account: account })
      return reply.type('application/json;charset=UTF-8').send(`{"id":${id},${rest.slice(1)}`)
    }
  })

  // --- native apps (issue 19) --------------------------------------------------------------------
  // Kakao's SDKs log in with the native app key: their id_tokens name it as `aud`, signed with a key of
  // kauth's JWKS; an access token's info names the app it belongs to (docs/providers.md, "Native SDK
  // tokens", "Kakao logout, unlink, token info").
  const signing = await generateKeyPair('RS256')
  const stranger = await generateKeyPair('RS256')
  const kid = randomBytes(8).toString('hex')
  const jwk = { ...await exportJWK(signing.publicKey), kid, alg: 'RS256', use: 'sig', kty: 'RSA' }
  /** The app each SDK access token was issued to; tokens of the browser login belong to `fake.appId`. */
  const tokenApps = new Map<string, string>()
  const native = {
    nativeAppKey: 'fake-kakao-native-app-key',
    appId: '1234567',
    tokenInfo: 'ok' as FakeKakao['tokenInfo'],
    async sdkIdToken (claims: { aud?: string, nonce?: string, sub?: string, iss?: string, exp?: number, email?: string } = {}, options: { strangerKey?: boolean } = {}) {
      const now = Math.floor(Date.now() / 1000)
      const { email } = claims
      return new SignJWT({ nickname: fake.account.nickname, picture: fake.account.profileImage, auth_time: now, ...(claims.nonce === undefined ? {} : { nonce: claims.nonce }), ...(email === undefined ? {} : { email }) })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(claims.iss ?? origin)
        .setAudience(claims.aud ?? live.nativeAppKey)
        .setSubject(claims.sub ?? fake.account.id)
        .setIssuedAt(now)
        .setExpirationTime(claims.exp ?? now + 21599)
        .sign(options.strangerKey === true ? stranger.privateKey : signing.privateKey)
    },
    sdkAccessToken (appId?: string) {
      const token = randomBytes(30).toString('base64url')
      tokens.add(token)
      tokenApps.set(token, appId ?? live.appId)
      return token
    }
  }
  // The tests set these on the fake they were handed: read them there.
  const live = Object.assign(fake, native)
  // One JWKS for the browser login's id_tokens (OpenID Connect mode, above) and the SDKs'.
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const answer = await oidc.jwksReply(reply) as { keys?: JWK[] }
    return Array.isArray(answer.keys) ? { keys: [...answer.keys, jwk] } : answer
  })
  app.get('/v1/user/access_token_info', async (request, reply) => {
    if (live.tokenInfo === 'hang') return hang()
    if (live.tokenInfo === 'transient') return reply.code(400).send({ msg: 'internal error', code: -1 })
    const match = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))
    if (match === null) return reply.code(400).send({ msg: 'invalid parameter', code: -2 })
    if (!tokens.has(match[1])) return reply.code(401).send({ msg: 'this access token does not exist', code: -401 })
    // Built by hand, like /v2/user/me: the id is a bare 64-bit integer.
    return reply.type('application/json;charset=UTF-8').send(`{"id":${fake.account.id},"expires_in":7199,"app_id":${tokenApps.get(match[1]) ?? live.appId}}`)
  })
  // --- end native apps ---------------------------------------------------------------------------

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  oidc.issuer = origin
  async function sendUnlinkWebhook (url: string, { method = 'POST', userId, referrerType = 'UNLINK_FROM_APPS', adminKey = fake.adminKey, appId = live.appId }: UnlinkWebhook): Promise<WebhookResult> {
    // Kakao has already unlinked the user when it calls; every value is a string.
    fake.linked.delete(userId)
    const params = new URLSearchParams({ app_id: appId, user_id: userId, referrer_type: referrerType })
    const target = new URL(url)
    if (method === 'GET') for (const [name, value] of params) target.searchParams.set(name, value)
    const sentAt = performance.now()
    const response = await fetch(target, {
      method,
      headers: { ...(adminKey === null ? {} : { authorization: `KakaoAK ${adminKey}` }), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' } : {}) },
      ...(method === 'POST' ? { body: params.toString() } : {}),
      // Redirects are failures to Kakao, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)
    })
    return { status: response.status, body: await response.text(), elapsedMs: performance.now() - sentAt }
  }

  const started = Object.assign(live, { authUrl: origin, apiUrl: origin, sendUnlinkWebhook, close: async () => { await app.close() } })
  // Getters: tests switch the client secret on and off, and change the admin key, after the fake started.
  return Object.defineProperties(started, {
    env: { get: () => ({ KAKAO_CLIENT_ID: fake.clientId, KAKAO_AUTH_URL: origin, KAKAO_API_URL: origin, ...(fake.clientSecret === undefined ? {} : { KAKAO_CLIENT_SECRET: fake.clientSecret }) }) },
    adminEnv: { get: () => ({ KAKAO_ADMIN_KEY: fake.adminKey, KAKAO_APP_ID: live.appId }) }
  }) as FakeKakao
}

// ---- OpenID Connect mode and consent screens ----
// Kakao's OIDC section of docs/providers.md: once the console enables OIDC, a token reply for a scope
// with `openid` carries an RS256 id_token (iss https://kauth.kakao.com, here the fake's origin; aud
// the REST API key; sub the user id as a string; the authorize request's nonce; nickname, picture and
// an email only when valid and verified, each only with its consent), keys at /.well-known/jwks.json.
// Consent screens: Kakao asks for every requested item not agreed to yet; `declines` says what the
// person unticks on each screen (Kakao's additional consent is the same request with a smaller scope).

export type KakaoIdTokenFault = 'none' | 'wrong_key' | 'wrong_aud' | 'wrong_nonce' | 'wrong_iss' | 'expired' | 'other_sub' | 'missing'

interface SigningKey { kid: string, privateKey: CryptoKey, jwk: JWK }

async function signingKey (): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = randomBytes(15).toString('hex')
  return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' } }
}

type OidcFake = Pick<FakeKakao, 'clientId' | 'account' | 'oidc' | 'idToken' | 'jwks' | 'declines' | 'withheld' | 'agreed' | 'nonces'>

async function oidcMode (fake: OidcFake) {
  const key = await signingKey()
  const stranger = await signingKey()

  const mode = {
    issuer: '',
    recordNonce (nonce: string | undefined): string | undefined {
      fake.nonces.push(nonce)
      return nonce
    },
    showConsentScreen (scope: string[]): void {
      const asked = scope.filter(item => item !== 'openid' && !fake.agreed.has(item))
      if (asked.length === 0) return
      const declined = fake.declines.shift() ?? []
      for (const item of asked) {
        if (declined.includes(item)) fake.withheld.add(item)
        else {
          fake.agreed.add(item)
          fake.withheld.delete(item)
        }
      }
    },
    /** The account as the person's consents let Kakao show it. */
    consentedAccount (): Omit<KakaoAccount, 'nickname' | 'profileImage'> & { nickname?: string, profileImage?: string } {
      const { account, withheld } = fake
      return {
        ...account,
        nickname: withheld.has('profile_nickname') ? undefined : account.nickname,
        profileImage: withheld.has('profile_image') ? undefined : account.profileImage,
        email: withheld.has('account_email') ? undefined : account.email
      }
    },
    async idTokenFields (issued: { scope: string[], nonce?: string }): Promise<{ id_token?: string }> {
      if (!fake.oidc || !(issued.scope.length === 0 || issued.scope.includes('openid')) || fake.idToken === 'missing') return {}
      const fault = fake.idToken
      const account = mode.consentedAccount()
      const now = Math.floor(Date.now() / 1000)
      const claims = {
        auth_time: now,
        ...(issued.nonce === undefined && fault !== 'wrong_nonce' ? {} : { nonce: fault === 'wrong_nonce' ? 'not-this-login' : issued.nonce }),
        ...(account.nickname === undefined ? {} : { nickname: account.nickname }),
        ...(account.profileImage === undefined ? {} : { picture: account.profileImage.replace('640x640', '110x110') }),
        ...(account.email !== undefined && account.isEmailValid && account.isEmailVerified ? { email: account.email } : {})
      }
      const signer = fault === 'wrong_key' ? stranger : key
      const idToken = await new SignJWT(claims)
        .setProtectedHeader({ kid: signer.kid, typ: 'JWT', alg: 'RS256' })
        .setIssuer(fault === 'wrong_iss' ? 'https://kauth.kakao.example' : mode.issuer)
        .setAudience(fault === 'wrong_aud' ? 'another-apps-rest-api-key' : fake.clientId)
        .setSubject(fault === 'other_sub' ? '1111111111' : account.id)
        .setIssuedAt(fault === 'expired' ? now - 7200 : now)
        .setExpirationTime(fault === 'expired' ? now - 3600 : now + 21599)
        .sign(signer.privateKey)
      return { id_token: idToken }
    },
    async jwksReply (reply: { code(status: number): { send(body: unknown): unknown } }): Promise<unknown> {
      if (fake.jwks === 'hang') return new Promise<never>(() => {})
      if (fake.jwks === 'status500') return reply.code(500).send({ error: 'internal' })
      return { keys: [key.jwk] }
    }
  }
  return mode
}
// ---- end of OpenID Connect mode and consent screens ----
