import { ConfigError, type OidcConfig, type OidcIssuerConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, NativeTokenInvalidError, NativeTokenUnsupportedError } from '../errors.js'
import { createIdTokenVerifier, type IdTokenClaims, type IdTokenVerifier } from './id-token.js'
import { nonceForms } from './native-sdk.js'
import { fetchProviderJson, optionalString, type NormalizedProfile, type OAuth2Settings, type Provider, type ProviderCallContext, type TokenResponse } from './provider.js'

// OpenID Connect by discovery (openid.net/specs/openid-connect-discovery-1_0.html): endpoints, JWKS
// and client authentication come from the issuer's document, read once when the app starts.

export interface OidcProviderOptions extends OidcConfig {
  id: string
  /** The setting that names the issuer, for boot errors. */
  issuerSetting: string
  /** The `iss` values an id_token may carry (Google writes its issuer with and without the scheme). */
  acceptedIssuers: string[]
  /** Our stable id for the person: `sub` alone only when the issuer is fixed by the provider. */
  providerUserId(claims: IdTokenClaims): string
  /** Ask the userinfo endpoint for claims the id_token lacks (issuers differ in what they put there). */
  useUserinfo: boolean
  /**
   * Set for an issuer whose native apps' SDK id_tokens POST /auth/:provider/token takes (Google):
   * their client ids, accepted as audience (and authorized party) beside `clientId`. Empty: none yet.
   */
  nativeClientIds?: string[]
  /** The `prompt` that lets the person pick another account (`?prompt=login`). Default: OIDC Core's `login`. */
  accountSwitchPrompt?: string
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
  idTokens: IdTokenVerifier
  /** For native apps' id_tokens, when the issuer takes them (nativeClientIds). */
  nativeIdTokens?: IdTokenVerifier
  userinfoUrl?: string
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
  // Absent, RS256 (OIDC Discovery 3). Never `none` or HMAC, whose key would be our client secret.
  const algorithms = strings(document.id_token_signing_alg_values_supported)?.filter(alg => alg !== 'none' && !alg.startsWith('HS')) ?? ['RS256']
  if (algorithms.length === 0) throw fail('id_token_signing_alg_values_supported lists no asymmetric algorithm')
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
    idTokens: createIdTokenVerifier({ displayName: options.displayName, jwksUri, issuers: options.acceptedIssuers, audiences: [options.clientId], algorithms, timeoutMs }),
    nativeIdTokens: options.nativeClientIds === undefined || options.nativeClientIds.length === 0
      ? undefined
      : createIdTokenVerifier({ displayName: options.displayName, jwksUri, issuers: options.acceptedIssuers, audiences: [options.clientId, ...options.nativeClientIds], algorithms, timeoutMs }),
    userinfoUrl: optionalString(document.userinfo_endpoint)
  }
}

/** Our profile from an issuer's claims (the id_token's, over userinfo's). */
function profileFromClaims (options: OidcProviderOptions, idClaims: IdTokenClaims, claims: Record<string, unknown>): NormalizedProfile {
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

/** Reads the issuer's discovery document (a ConfigError naming the setting if that fails), then answers as a provider. */
export async function createOidcProvider (options: OidcProviderOptions, { timeoutMs }: ProviderCallContext): Promise<Provider> {
  const { oauth2, idTokens, nativeIdTokens, userinfoUrl } = await discover(options, timeoutMs)
  const nativeParties = [options.clientId, ...options.nativeClientIds ?? []]

  async function readUserinfo (accessToken: string, sub: string, timeoutMs: number): Promise<Record<string, unknown>> {
    if (!options.useUserinfo || userinfoUrl === undefined) return {}
    const { status, body } = await fetchProviderJson(userinfoUrl, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, timeoutMs })
    const claims = (body ?? {}) as Record<string, unknown>
    // Userinfo about someone else than the id_token's subject must not be used (OIDC Core 5.3.2).
    if (status !== 200 || claims.sub !== sub) throw new LoginFlowError(LoginErrorCode.providerProfileError, `${options.displayName} userinfo answered ${status}`)
    return claims
  }

  const provider: Provider = {
    id: options.id,
    displayName: options.displayName,
    oauth2,

    loginParams: ({ promptLogin }): Record<string, string> => promptLogin === true ? { prompt: options.accountSwitchPrompt ?? 'login' } : {},

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
      const idClaims = await idTokens.verify(String(tokenReply.id_token), { nonce })
      const claims = { ...await readUserinfo(accessToken, idClaims.sub, timeoutMs), ...idClaims } as Record<string, unknown>
      return profileFromClaims(options, idClaims, claims)
    }
  }
  if (options.nativeClientIds === undefined) return provider
  // A native app's SDK id_token (Google Sign-In, Credential Manager): its audience is one of our client
  // ids (Android names the web client id as `aud` and itself as `azp`), and so must `azp` be when the
  // token names one, whatever the number of audiences (docs/mobile.md, "Path B: the provider's SDK").
  provider.verifyNativeToken = async (token) => {
    if (!('idToken' in token)) throw new NativeTokenUnsupportedError(`${options.displayName}: send the idToken (with its nonce), not an access token`)
    if (nativeIdTokens === undefined) throw new NativeTokenUnsupportedError(`${options.displayName} id_tokens from apps need ${options.issuerSetting.replace(/_ISSUER$/, '')}_NATIVE_CLIENT_IDS: the client ids of your iOS and Android apps`)
    const idClaims = await nativeIdTokens.verify(token.idToken, { nonce: nonceForms(token.nonce) })
    if (idClaims.azp !== undefined && !nativeParties.includes(idClaims.azp as string)) throw new NativeTokenInvalidError(`${options.displayName} id_token was issued to another client (azp)`)
    return { profile: profileFromClaims(options, idClaims, idClaims) }
  }
  return provider
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
