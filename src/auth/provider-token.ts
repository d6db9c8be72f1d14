import { createHash } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { secondsAfter } from '../clock.js'
import type { Sql } from '../db/database.js'
import { LoginErrorCode, LoginFlowError, NativeTokenInvalidError, NativeTokenUnsupportedError, ProviderConsentMissingError, providerNotFound, ProviderTimeoutError, ProviderUnavailableError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import type { NativeSdkToken, NativeSignIn, Provider, ProviderTokens } from '../providers/provider.js'
import { tokensFromReply } from '../providers/provider-tokens.js'
import { generateSecret, hashSecret } from '../secrets.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { completeLogin } from './complete-login.js'
import { missingFields } from './consent-repair.js'
import { answerRedeemed } from './exchange.js'
import { redeemLoginCode } from './login-codes.js'
import { ProviderParamsSchema, ProviderTokenBodySchema, ProviderTokenResponses } from './schemas.js'

// Path B of native apps: the app signed in with the provider's own SDK (Kakao SDK, Google Sign-In,
// Sign in with Apple) and posts what it got. The provider's rules prove the token was issued to one of
// our apps for this sign-in (provider.verifyNativeToken); from there the login is a browser login's:
// completeLogin finds the user (or links by verified email, or keeps the profile for the nickname
// signup) into a native one-time code that never leaves this request, and its redemption answers as
// the native exchange does. Every refusal is a 4xx before anything is written.

/** Longer than any SDK id_token lives (Google 1 h, Apple 10 min, Kakao as its access token, 12 h at most). */
const USED_RETENTION_SECONDS = 86_400

/**
 * Marks an id_token used; false when it already was. By the token, not the nonce sent with it: the
 * same token comes with its raw nonce or with the claim's own value (a hash, for an app that gave the
 * SDK one), and must work once either way. A row past its retention may be taken again.
 */
async function markIdTokenUsed (sql: Sql, providerId: string, idToken: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO used_id_tokens (token_hash, expires_at) VALUES ($1, $2)
     ON CONFLICT (token_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE used_id_tokens.expires_at <= $3
     RETURNING 1`,
    [hashSecret(`${providerId}:${idToken}`), secondsAfter(now, USED_RETENTION_SECONDS), now])
  return rows.length === 1
}

/** Why a provider without an SDK path refuses; Naver's reason is its own (docs/mobile.md). */
function unsupported (config: Config, provider: Provider): Error {
  const browser = `sign in through the system browser instead (GET ${config.prefix}/auth/${provider.id}/login with redirect_uri)`
  if (provider.id === 'naver') {
    return new NativeTokenUnsupportedError(`Naver tokens are not accepted from apps: Naver names no app a token was issued to, so a token from any Naver app could be replayed here; ${browser}`)
  }
  return new NativeTokenUnsupportedError(`${provider.displayName} takes no SDK token here; ${browser}`)
}

/** A provider's failure as this JSON route answers it: a refused token is the app's 401, the rest the provider's 502 or 504. */
function providerFailure (provider: Provider, error: unknown): unknown {
  if (!(error instanceof LoginFlowError)) return error
  if (error.code === LoginErrorCode.providerTokenError) return new NativeTokenInvalidError(error.message)
  if (error.code === LoginErrorCode.providerTimeout) return new ProviderTimeoutError(`${provider.displayName} did not answer in time; retry`)
  return new ProviderUnavailableError(`${provider.displayName} failed to check the token; retry later`)
}

export const providerTokenRoutes: FastifyPluginAsyncTypebox<{ config: Config, providers: Map<string, Provider>, cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, providers, cookies, hooks }) => {
  app.post('/:provider/token', {
    schema: {
      operationId: 'signInWithProviderToken',
      tags: ['login'],
      summary: 'Native apps: sign in with what the provider\'s SDK gave the app (an id_token and its nonce, or a Kakao access token)',
      description: 'Kakao: an id_token (OpenID Connect on; audience one of KAKAO_NATIVE_APP_KEYS) or an access token (its token info must name KAKAO_APP_ID). Google: an id_token of one of GOOGLE_NATIVE_CLIENT_IDS (or GOOGLE_CLIENT_ID as audience with such an `azp`). Apple: the identityToken (as `idToken`) of one of APPLE_APP_IDS, and (recommended) the credential\'s `authorizationCode`: exchanged at Apple as that bundle id, its tokens are kept encrypted so that deleting the account revokes them at Apple; without it nothing can be revoked. Other providers refuse an `authorizationCode`. Naver: refused (Naver cannot say which app a token belongs to): use the system browser. The nonce is the raw value the app generated; the id_token may carry it raw or as its SHA-256 in hex; each id_token signs in once. Then the same rules as a browser login: a returning user gets `tokens`, a first login a `signupToken` for POST /auth/signup. No cookie is read or set.',
      params: ProviderParamsSchema,
      body: ProviderTokenBodySchema,
      response: ProviderTokenResponses
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.exchangePerMinute) }
  }, async (request, reply) => {
    const provider = providers.get(request.params.provider)
    if (provider === undefined) throw providerNotFound(request.params.provider)
    if (provider.verifyNativeToken === undefined) throw unsupported(config, provider)
    const { body } = request
    // A code the provider would not exchange is refused, not dropped: the app would believe its tokens kept.
    if ('authorizationCode' in body && body.authorizationCode !== undefined && provider.nativeAuthorizationCode !== true) {
      throw new NativeTokenUnsupportedError(`${provider.displayName} takes no authorizationCode: send the id_token${provider.id === 'kakao' ? ' or the access token' : ''} alone`)
    }
    // Without PROVIDER_TOKEN_KEYS (production) no token is kept: exchanging the code would fetch the
    // person's tokens at Apple only to drop them. The sign-in goes on with the id_token alone.
    const keepsTokens = app.handoff.tokenVault.enabled
    if ('authorizationCode' in body && body.authorizationCode !== undefined && !keepsTokens) {
      request.log.warn({ provider: provider.id }, 'native sign-in: authorizationCode not exchanged, PROVIDER_TOKEN_KEYS is not set (deleting this account cannot revoke at the provider)')
    }
    const token: NativeSdkToken = 'idToken' in body
      ? { idToken: body.idToken, nonce: body.nonce, ...(body.authorizationCode === undefined || !keepsTokens ? {} : { authorizationCode: body.authorizationCode }) }
      : { accessToken: body.accessToken }

    let signIn: NativeSignIn
    try {
      signIn = await provider.verifyNativeToken(token, { timeoutMs: config.providerTimeoutMs })
    } catch (error) {
      // Why, for the operator (an APPLE_APP_IDS bundle id Apple refuses as a client, say): the app's
      // answer says only "retry". Provider messages carry statuses and error codes, never a token.
      if (error instanceof LoginFlowError && error.code !== LoginErrorCode.providerTokenError) request.log.warn({ provider: provider.id, reason: error.message }, 'native sign-in: the provider failed')
      throw providerFailure(provider, error)
    }
    // A host app's provider may return something else (a bare profile, as before tokens could come
    // along): the provider's fault, 502, never a TypeError's 500.
    const profile = (signIn as Partial<NativeSignIn> | undefined)?.profile
    // As at the callback: an identity is (provider, id), and a host app's provider must not name another.
    if (profile === undefined || profile === null || profile.provider !== provider.id || typeof profile.providerUserId !== 'string' || profile.providerUserId === '') {
      throw new ProviderUnavailableError(`${provider.displayName} returned an unusable profile`)
    }
    // As the callback would after its one repair round: a login without a field the app requires ends here.
    const missing = missingFields(profile, provider.requiredFields ?? [])
    if (missing.length > 0) throw new ProviderConsentMissingError(`${provider.displayName} did not share: ${missing.join(', ')}`)
    const { sql } = app.handoff.db
    const now = app.handoff.clock.now()
    if ('idToken' in token && !await markIdTokenUsed(sql, provider.id, token.idToken, now)) throw new NativeTokenInvalidError('This id_token was already used to sign in: sign in with the SDK again, with a new nonce')

    // An exchanged code's tokens (Apple's), kept sealed like a browser login's, with the client id
    // (the app's bundle id) that must refresh and revoke them.
    const tokens: ProviderTokens | null = signIn.tokens === undefined ? null : tokensFromReply(signIn.tokens.reply, now)
    if (tokens !== null && signIn.tokens !== undefined) tokens.clientId = signIn.tokens.clientId

    // A code bound to a verifier only this request knows, redeemed at once: the single statement that
    // opens a session or a pending signup for every other login opens this one too.
    const verifier = generateSecret()
    const code = await completeLogin(app, hooks, request, reply, {
      profile,
      tokens,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      linkByVerifiedEmail: provider.linkByVerifiedEmail === true,
      client: 'native'
    })
    const device = body.deviceSecret
    const result = await redeemLoginCode(sql, code, {
      now,
      ttlSeconds: config.refreshTokenTtlSeconds,
      maxLifetimeSeconds: config.sessionMaxLifetimeSeconds,
      device,
      client: 'native',
      signupTtlSeconds: config.signupTtlSeconds,
      proof: { codeVerifier: verifier },
      userAgent: request.headers['user-agent'],
      ip: request.ip
    })
    // Only when the account was deleted between finding it and opening its session.
    if (result === null) throw new NativeTokenInvalidError('The account changed while signing in; sign in again')
    return answerRedeemed(app, request, reply, result, { config, cookies, hooks, client: 'native', device, method: 'provider_token' })
  })
}
