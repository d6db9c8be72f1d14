import type { createRemoteJWKSet, JWTPayload } from 'jose'
import { ConfigError, type OidcConfig, type OidcIssuerConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import { fetchProviderJson, optionalString, type OAuth2Settings, type Provider, type ProviderCallContext, type TokenResponse } from './provider.js'

// OpenID Connect by discovery (openid.net/specs/openid-connect-discovery-1_0.html): endpoints, JWKS
// and client authentication come from the issuer's document, read once when the app starts.

export interface OidcProviderOptions extends OidcConfig {
  id: string
  /** The setting that names the issuer, for boot errors. */
  issuerSetting: string
  /** The `iss` values an id_token may carry (Google writes its issuer with and without the scheme). */
  acceptedIssuers: string[]
  /** Our stable id for the person: `sub` alone only when the issuer is fixed by the provider. */
  providerUserId(claims: JWTPayload & { sub: string }): string
  /** Ask the userinfo endpoint for claims the id_token lacks (issuers differ in what they put there). */
  useUserinfo: boolean
}

interface DiscoveryDocument {
  issuer?: unknown
  authorization_endpoint?: unknown
  token_endpoint?: unknown
  jwks_uri?: unknown
  userinfo_endpoint?: unknown
  token_endpoint_auth_methods_supported?: unknown
  code_challenge_methods_supported?: unknown
  id_token_signing_alg_values_supported?: unknown
}

const strings = (value: unknown): string[] | undefined => Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined

interface Discovered {
  oauth2: OAuth2Settings
  jwks: ReturnType<typeof createRemoteJWKSet>
  userinfoUrl?: string
  algorithms: string[]
}

async function discover (options: OidcProviderOptions, timeoutMs: number): Promise<Discovered> {
  // Discovery appends to the issuer's path (spec section 4): a trailing slash is not doubled.
  const url = options.issuer.replace(/\/$/, '') + '/.well-known/openid-configuration'
  const fail = (problem: string) => new ConfigError(`Invalid setting ${options.issuerSetting}: ${problem} (${url})`)
  let document: DiscoveryDocument
  try {
    const { status, body } = await fetchProviderJson(url, { timeoutMs, headers: { accept: 'application/json' } })
    if (status !== 200) throw fail(`discovery answered ${status}`)
    document = (body ?? {}) as DiscoveryDocument
  } catch (error) {
    throw error instanceof ConfigError ? error : fail(`discovery failed: ${(error as Error).message}`)
  }
  // The document must be the configured issuer's own, or anyone serving it could choose our endpoints.
  if (document.issuer !== options.issuer) throw fail(`the discovery document names issuer "${String(document.issuer)}"`)
  const { authorization_endpoint: authorizeUrl, token_endpoint: tokenUrl, jwks_uri: jwksUri } = document
  if (typeof authorizeUrl !== 'string' || typeof tokenUrl !== 'string' || typeof jwksUri !== 'string') throw fail('discovery lacks authorization_endpoint, token_endpoint or jwks_uri')

  // Absent, the spec's default is client_secret_basic. `none` (a public-client issuer) takes the
  // client_id in the body, like client_secret_post.
  const authMethods = strings(document.token_endpoint_auth_methods_supported) ?? ['client_secret_basic']
  const bodyAuth = authMethods.includes('client_secret_post') || authMethods.includes('none')
  if (!authMethods.includes('client_secret_basic') && !bodyAuth) throw fail(`no supported token_endpoint_auth_method in ${authMethods.join(', ')}`)
  // jose caches the keys and refetches on an unknown kid, at most once a second. Imported here:
  // only a server with an OpenID Connect provider pays for loading it.
  const { createRemoteJWKSet } = await import('jose')
  return {
    oauth2: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authorizeUrl,
      tokenUrl,
      scope: options.scopes,
      pkce: strings(document.code_challenge_methods_supported)?.includes('S256') === true ? 'S256' : undefined,
      clientAuth: authMethods.includes('client_secret_basic') ? 'header' : 'body',
      nonce: true
    },
    jwks: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs, cooldownDuration: 1000 }),
    userinfoUrl: optionalString(document.userinfo_endpoint),
    algorithms: strings(document.id_token_signing_alg_values_supported)?.filter(alg => alg !== 'none' && !alg.startsWith('HS')) ?? ['RS256']
  }
}

/** Reads the issuer's discovery document (a ConfigError naming the setting if that fails), then answers as a provider. */
export async function createOidcProvider (options: OidcProviderOptions, { timeoutMs }: ProviderCallContext): Promise<Provider> {
  const { oauth2, jwks, userinfoUrl, algorithms } = await discover(options, timeoutMs)

  async function verifyIdToken (idToken: string, nonce: string): Promise<JWTPayload & { sub: string }> {
    const { jwtVerify } = await import('jose')
    let claims: JWTPayload
    try {
      ({ payload: claims } = await jwtVerify(idToken, jwks, { issuer: options.acceptedIssuers, audience: options.clientId, algorithms, requiredClaims: ['sub', 'exp', 'iat'] }))
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code === 'ERR_JWKS_TIMEOUT') throw new LoginFlowError(LoginErrorCode.providerTimeout, `${options.displayName} JWKS did not answer in time`, { cause: error })
      throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} id_token rejected: ${code ?? (error as Error).message}`, { cause: error })
    }
    if (claims.nonce !== nonce) throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} id_token nonce does not match this login`)
    // With several audiences, azp must name us (OIDC Core 3.1.3.7).
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== options.clientId) throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} id_token azp is not our client`)
    return claims as JWTPayload & { sub: string }
  }

  async function readUserinfo (accessToken: string, sub: string, timeoutMs: number): Promise<Record<string, unknown>> {
    if (!options.useUserinfo || userinfoUrl === undefined) return {}
    const { status, body } = await fetchProviderJson(userinfoUrl, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, timeoutMs })
    const claims = (body ?? {}) as Record<string, unknown>
    // Userinfo about someone else than the id_token's subject must not be used (OIDC Core 5.3.2).
    if (status !== 200 || claims.sub !== sub) throw new LoginFlowError(LoginErrorCode.providerProfileError, `${options.displayName} userinfo answered ${status}`)
    return claims
  }

  return {
    id: options.id,
    displayName: options.displayName,
    oauth2,

    readAccessToken (reply) {
      if (typeof reply.access_token !== 'string' || reply.access_token === '') throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} token reply has no access_token`)
      if (typeof reply.id_token !== 'string') throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} token reply has no id_token`)
      return reply.access_token
    },

    // RFC 6749 §6, with the client authentication discovery chose for the code exchange.
    async refreshTokens (refreshToken, { timeoutMs }) {
      const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken }
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' }
      if (oauth2.clientAuth === 'header') {
        // §2.3.1: each half form-encoded before the Basic encoding, as simple-oauth2 sends it at the code exchange.
        const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)
        headers.authorization = `Basic ${Buffer.from(`${encode(oauth2.clientId)}:${encode(oauth2.clientSecret)}`).toString('base64')}`
      } else {
        Object.assign(form, { client_id: oauth2.clientId, client_secret: oauth2.clientSecret })
      }
      const { status, body } = await fetchProviderJson(oauth2.tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form).toString(), timeoutMs, failure: LoginErrorCode.providerTokenError })
      const reply = (body ?? {}) as TokenResponse
      // An error reply (§5.2, 400 or 401) is the caller's to read: `invalid_grant` says the grant is gone.
      if (status === 200 || typeof reply.error === 'string') return reply
      throw new LoginFlowError(LoginErrorCode.providerTokenError, `${options.displayName} token endpoint answered ${status} to a refresh`)
    },

    async fetchProfile (accessToken, { tokenReply, nonce, timeoutMs }) {
      const idClaims = await verifyIdToken(String(tokenReply.id_token), nonce)
      const claims = { ...await readUserinfo(accessToken, idClaims.sub, timeoutMs), ...idClaims } as Record<string, unknown>
      const email = optionalString(claims.email)
      return {
        provider: options.id,
        providerUserId: options.providerUserId(idClaims),
        nickname: optionalString(claims.preferred_username) ?? optionalString(claims.nickname) ?? optionalString(claims.given_name),
        name: optionalString(claims.name),
        email,
        emailVerified: email !== undefined && claims.email_verified === true,
        avatarUrl: optionalString(claims.picture)
      }
    }
  }
}

/**
 * Any OpenID Connect issuer, under its own id (`oidc` for the OIDC_* settings, the name's for
 * OIDC_<NAME>_*). The identity is (iss, sub): a sub is unique only within its issuer.
 */
export function createGenericOidcProvider (config: OidcIssuerConfig, context: ProviderCallContext): Promise<Provider> {
  return createOidcProvider({
    ...config,
    issuerSetting: `${config.settingPrefix}_ISSUER`,
    acceptedIssuers: [config.issuer],
    // Issuer URLs carry no fragment, so '#' cannot be part of one.
    providerUserId: claims => `${String(claims.iss)}#${claims.sub}`,
    useUserinfo: true
  }, context)
}
