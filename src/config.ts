import { readFileSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { isIP, isIPv4 } from 'node:net'
import { envSchema } from 'env-schema'
import { Type, type Static } from 'typebox'
import { parseNativeRedirectUris, type NativeRedirectUri } from './auth/native-redirect.js'
import { parseApplePrivateKey } from './providers/apple-client-secret.js'
import { BUILT_IN_PROVIDER_IDS, PROVIDER_ID_PATTERN, PROVIDER_ID_RULE } from './providers/provider.js'
import { isGuessableSecret, MIN_SECRET_BITS, MIN_SECRET_DISTINCT_CHARACTERS } from './secret-strength.js'

export type JwtAlgorithm = 'HS256' | 'ES256' | 'EdDSA'
export const JWT_ALGORITHMS: JwtAlgorithm[] = ['HS256', 'ES256', 'EdDSA']

const Bool = (fallback: boolean) => Type.Boolean({ default: fallback })
const Seconds = (fallback: number, minimum: number, maximum: number) =>
  Type.Integer({ default: fallback, minimum, maximum })
const HttpUrl = Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$' })

/** Profile fields an app may require of Kakao and Naver (consent repair asks once more for a missing one). */
export const PROFILE_FIELDS = ['email', 'name', 'nickname', 'avatar'] as const
export type ProfileField = typeof PROFILE_FIELDS[number]
const REQUIRED_FIELDS_PATTERN = `^((${PROFILE_FIELDS.join('|')})(\\s*,\\s*(${PROFILE_FIELDS.join('|')}))*)?$`
const requiredFields = (value: string): ProfileField[] => [...new Set(value.split(/[\s,]+/).filter(Boolean))] as ProfileField[]
/** A comma-separated list of app keys or client ids (native apps, issue 19). */
const IdList = Type.String({ default: '', pattern: '^([^\\s,]+(\\s*,\\s*[^\\s,]+)*)?$' })
const idList = (value: string): string[] => [...new Set(value.split(',').map(item => item.trim()).filter(Boolean))]

/** A Services ID or bundle id (reverse-DNS: letters, digits, `.` and `-`). */
const APPLE_ID = '[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*'
const APPLE_CLIENT_ID_PATTERN = `^${APPLE_ID}$`

/** Every setting the server reads. `.env.example` documents each one. */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  PUBLIC_URL: Type.Optional(HttpUrl),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(level => Type.Literal(level)), { default: 'info' }),

  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  MIGRATE_ON_START: Bool(false),
  DATABASE_CONNECT_TIMEOUT_SECONDS: Seconds(10, 0, 600),
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 1000 }),

  FRONTEND_URL: Type.Optional(HttpUrl),
  FRONTEND_ORIGINS: Type.String({ default: '', pattern: '^(https?://[^\\s/,]+)?(,\\s*https?://[^\\s/,]+)*$' }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  HANDOFF_CODE_IN: Type.Union([Type.Literal('fragment'), Type.Literal('query')], { default: 'fragment' }),

  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  JWT_PREVIOUS_SECRETS: Type.String({ default: '', pattern: '^([^,]{32,}(,[^,]{32,})*)?$' }),
  JWT_ALGORITHM: Type.Union(JWT_ALGORITHMS.map(algorithm => Type.Literal(algorithm)), { default: 'HS256' }),
  JWT_PRIVATE_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Seconds(900, 30, 86_400),
  REFRESH_TOKEN_TTL_SECONDS: Seconds(2_592_000, 300, 31_536_000),
  LOGIN_CODE_TTL_SECONDS: Seconds(60, 5, 600),
  SIGNUP_TTL_SECONDS: Seconds(600, 60, 86_400),
  LINK_BY_VERIFIED_EMAIL: Bool(true),
  REFRESH_REUSE_GRACE_SECONDS: Seconds(10, 0, 60),
  SESSION_MAX_LIFETIME_SECONDS: Seconds(7_776_000, 300, 31_536_000),
  REAUTH_MAX_AGE_SECONDS: Seconds(600, 30, 86_400),
  BIND_CODE_TO_BROWSER: Bool(true),
  NATIVE_REDIRECT_URIS: Type.String({ default: '', maxLength: 8192 }),
  PURGE_INTERVAL_SECONDS: Seconds(300, 0, 86_400),

  COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict'), Type.Literal('none')], { default: 'lax' }),
  COOKIE_DOMAIN: Type.Optional(Type.String({ pattern: '^\\.?[a-z0-9.-]+$' })),
  ALLOW_INSECURE_HTTP: Bool(false),

  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  RATE_LIMIT_ENABLED: Bool(true),
  RATE_LIMIT_WINDOW_SECONDS: Seconds(60, 1, 3600),
  REDIS_KEY_PREFIX: Type.String({ default: 'handoff:', maxLength: 64 }),
  RATE_LIMIT_LOGIN_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  RATE_LIMIT_EXCHANGE_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  RATE_LIMIT_REFRESH_PER_MINUTE: Type.Integer({ default: 120, minimum: 1 }),
  RATE_LIMIT_NICKNAME_PER_MINUTE: Type.Integer({ default: 60, minimum: 1 }),
  PROVIDER_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 60_000 }),

  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1 })),

  GITHUB_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  GITHUB_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  GITHUB_WEB_URL: Type.String({ ...HttpUrl, default: 'https://github.com' }),
  GITHUB_API_URL: Type.String({ ...HttpUrl, default: 'https://api.github.com' }),

  KAKAO_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  KAKAO_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  KAKAO_AUTH_URL: Type.String({ ...HttpUrl, default: 'https://kauth.kakao.com' }),
  KAKAO_API_URL: Type.String({ ...HttpUrl, default: 'https://kapi.kakao.com' }),
  KAKAO_SCOPES: Type.String({ default: '', pattern: '^[a-z0-9_, ]*$' }),
  KAKAO_OIDC: Bool(false),
  KAKAO_ADMIN_KEY: Type.Optional(Type.String({ minLength: 1 })),
  KAKAO_APP_ID: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
  KAKAO_LOGOUT_REDIRECT_URI: Type.Optional(HttpUrl),
  KAKAO_REQUIRED_FIELDS: Type.String({ default: '', pattern: REQUIRED_FIELDS_PATTERN }),
  KAKAO_NATIVE_APP_KEYS: IdList,

  NAVER_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  NAVER_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  NAVER_AUTH_URL: Type.String({ ...HttpUrl, default: 'https://nid.naver.com' }),
  NAVER_API_URL: Type.String({ ...HttpUrl, default: 'https://openapi.naver.com' }),
  NAVER_OIDC: Bool(false),
  NAVER_REQUIRED_FIELDS: Type.String({ default: '', pattern: REQUIRED_FIELDS_PATTERN }),
  NAVER_UNLINK_WINDOW_SECONDS: Seconds(300, 10, 3600),

  PROVIDER_TOKEN_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  ON_LAST_IDENTITY_UNLINKED: Type.Union([Type.Literal('delete'), Type.Literal('keep')], { default: 'delete' }),

  APPLE_CLIENT_ID: Type.Optional(Type.String({ pattern: APPLE_CLIENT_ID_PATTERN })),
  APPLE_TEAM_ID: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$' })),
  APPLE_KEY_ID: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$' })),
  APPLE_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  APPLE_PRIVATE_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  APPLE_AUTH_URL: Type.String({ ...HttpUrl, default: 'https://appleid.apple.com' }),
  APPLE_APP_IDS: Type.String({ default: '', pattern: `^(${APPLE_ID}(\\s*,\\s*${APPLE_ID})*)?$` }),

  GOOGLE_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  GOOGLE_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  GOOGLE_ISSUER: Type.String({ ...HttpUrl, default: 'https://accounts.google.com' }),
  GOOGLE_NATIVE_CLIENT_IDS: IdList,

  OIDC_ISSUER: Type.Optional(HttpUrl),
  OIDC_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  OIDC_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  OIDC_SCOPES: Type.String({ default: 'openid email profile', minLength: 1 }),
  OIDC_NAME: Type.String({ default: 'OpenID Connect', minLength: 1, maxLength: 64 }),

  DEV_LOGIN: Bool(false),
  DEMO_APP: Bool(false),
  DOCS_ENABLED: Bool(true)
})
export type Env = Static<typeof EnvSchema>

/** OIDC_<NAME>_ISSUER and its siblings: one more OpenID Connect issuer per NAME (docs/providers.md). */
const NAMED_OIDC_SETTING = /^OIDC_(.+)_(ISSUER|CLIENT_ID|CLIENT_SECRET|SCOPES|NAME|TRUST_EMAIL)$/
const namedOidcSettings = (prefix: string) => ({
  [`${prefix}_ISSUER`]: Type.Optional(HttpUrl),
  [`${prefix}_CLIENT_ID`]: Type.Optional(Type.String({ minLength: 1 })),
  [`${prefix}_CLIENT_SECRET`]: Type.Optional(Type.String({ minLength: 1 })),
  [`${prefix}_SCOPES`]: Type.String({ default: 'openid email profile', minLength: 1 }),
  [`${prefix}_NAME`]: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  [`${prefix}_TRUST_EMAIL`]: Type.Boolean({ default: false })
})

/**
 * The NAMEs of the OIDC_<NAME>_* settings present, each one's provider id checked here: it becomes
 * a URL path and part of cookie names, and must not take over a built-in provider's identities.
 */
function namedOidcIssuers (env: Record<string, string | undefined>): Array<{ name: string, id: string }> {
  const names = new Map<string, string>()
  for (const setting of Object.keys(env).sort()) {
    const name = NAMED_OIDC_SETTING.exec(setting)?.[1]
    if (name === undefined || env[setting] === undefined || names.has(name)) continue
    const id = name.toLowerCase().replaceAll('_', '-')
    if (!/^[A-Z0-9]+(_[A-Z0-9]+)*$/.test(name) || !PROVIDER_ID_PATTERN.test(id)) {
      throw new ConfigError(`Invalid setting ${setting}: in OIDC_<NAME>_*, NAME must be upper-case letters and digits, words joined by single underscores, and give a provider id (NAME lower-cased, _ as -) of ${PROVIDER_ID_RULE}`)
    }
    if (BUILT_IN_PROVIDER_IDS.has(id)) throw new ConfigError(`Invalid setting ${setting}: the provider id "${id}" is a built-in provider's; choose another NAME`)
    names.set(name, id)
  }
  return [...names].sort(([a], [b]) => a < b ? -1 : 1).map(([name, id]) => ({ name, id }))
}

export interface GitHubConfig {
  clientId: string
  clientSecret: string
  webUrl: string
  apiUrl: string
}

export interface KakaoConfig {
  clientId: string
  /** Only when the Kakao app enabled "Client Secret"; then Kakao requires it. */
  clientSecret?: string
  authUrl: string
  apiUrl: string
  /** Consent items added to the default profile_nickname,profile_image. */
  extraScopes: string[]
  /** KAKAO_OIDC: OpenID Connect mode (`openid` scope, nonce, the id_token verified against Kakao's JWKS). */
  oidc: boolean
  /** KAKAO_ADMIN_KEY: the app's primary admin key (unlink webhook check, unlink on withdrawal). Never logged. */
  adminKey?: string
  /** KAKAO_APP_ID: the numeric app id the unlink webhook must name. */
  appId?: string
  /** KAKAO_LOGOUT_REDIRECT_URI: registered in Kakao's console; enables "logout with the Kakao account". */
  logoutRedirectUri?: string
  /** Fields a Kakao login must bring; a missing one is asked once more as an additional consent. */
  requiredFields: ProfileField[]
  /** KAKAO_NATIVE_APP_KEYS: the app keys Kakao's SDKs log in with (native app key, JavaScript key): the `aud` of their id_tokens. */
  nativeAppKeys: string[]
}

export interface NaverConfig {
  clientId: string
  clientSecret: string
  authUrl: string
  apiUrl: string
  /** NAVER_OIDC: OpenID Connect with PKCE on Naver's /oauth2/* endpoints instead of the legacy /oauth2.0/*. */
  oidc: boolean
  /** Fields a Naver login must bring; a missing one sends the person back once with auth_type=reprompt. */
  requiredFields: ProfileField[]
  /** How far the unlink webhook's timestamp may be from our clock, in seconds. */
  unlinkWindowSeconds: number
}

export interface AppleConfig {
  /** APPLE_CLIENT_ID: the Services ID the web login uses as client_id (id_token `aud`). */
  clientId: string
  teamId: string
  keyId: string
  /** The .p8 key (APPLE_PRIVATE_KEY or APPLE_PRIVATE_KEY_FILE), parsed: it signs the client secrets. Never logged. */
  privateKey: KeyObject
  /** https://appleid.apple.com unless a test points it at a fake; also the `iss` Apple's tokens must carry. */
  authUrl: string
  /** APPLE_APP_IDS: the apps' bundle ids, accepted besides clientId as `aud` of native id_tokens and notifications. */
  appIds: string[]
}

export interface OidcConfig {
  /** Exactly as configured: the discovery document must name the same issuer. */
  issuer: string
  clientId: string
  clientSecret: string
  scopes: string[]
  displayName: string
}

/** An OIDC_<NAME>_* issuer. */
export interface OidcIssuerConfig extends OidcConfig {
  /** NAME lower-cased, underscores as hyphens. */
  id: string
  /** `OIDC_<NAME>`, to name its settings in errors. */
  settingPrefix: string
  /** OIDC_<NAME>_TRUST_EMAIL: its verified emails may join existing accounts (off by default). */
  trustEmail: boolean
}

export interface Config {
  nodeEnv: Env['NODE_ENV']
  host: string
  port: number
  /** Where browsers and providers reach this server; callback URLs are built from it. */
  publicUrl: string
  /**
   * The plugin's `prefix` option ('' for the standalone server): handoff's routes, callback URLs,
   * cookie paths and login URLs are under `${prefix}/auth`, `${prefix}/users`, and so on.
   */
  prefix: string
  logLevel: Env['LOG_LEVEL']
  databaseUrl?: string
  dataDir: string
  migrateOnStart: boolean
  /** How long the server keeps trying to reach PostgreSQL at start before it gives up. */
  databaseConnectTimeoutSeconds: number
  /** Connections per instance to PostgreSQL (docs/deployment.md, connection-pool sizing). */
  databasePoolSize: number
  /** The frontend page that receives the one-time code. */
  frontendUrl: string
  frontendOrigin: string
  /** Origins allowed to call us with credentials (CORS) and to send state-changing requests (CSRF). */
  allowedOrigins: string[]
  /** Fastify's trustProxy: false, true (every hop, discouraged), a hop count, or the proxies' addresses/CIDRs. */
  trustProxy: boolean | number | string[]
  handoffCodeIn: Env['HANDOFF_CODE_IN']
  /** Absent only outside production: a secret is then generated and kept under dataDir. */
  jwtSecret?: string
  /** Older signing secrets that still verify (key rotation), newest first. */
  jwtPreviousSecrets: string[]
  jwtAlgorithm: JwtAlgorithm
  /**
   * JWT_PRIVATE_KEYS as given: the ES256 / EdDSA keys, the signing one first, parsed when the app
   * starts (src/sessions/signing-keys.ts). Absent only outside production: a key is then generated
   * and kept under dataDir.
   */
  jwtPrivateKeys?: string
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  loginCodeTtlSeconds: number
  /** How long a first-time user has to pick a nickname. */
  signupTtlSeconds: number
  /** Link a new identity to the user with the same provider-verified email. */
  linkByVerifiedEmail: boolean
  /** A just-rotated refresh token still refreshes within this window (two tabs of the browser that rotated it). */
  refreshReuseGraceSeconds: number
  /** A session ends this long after sign-in, however often it is refreshed. */
  sessionMaxLifetimeSeconds: number
  /** Deleting the account needs a sign-in at most this old. */
  reauthMaxAgeSeconds: number
  bindCodeToBrowser: boolean
  /**
   * NATIVE_REDIRECT_URIS: where a native app's system-browser login (RFC 8252) may end: private-use
   * scheme URIs, claimed https URIs (universal / app links), loopback http redirects on any port.
   */
  nativeRedirectUris: NativeRedirectUri[]
  /** How often expired codes, signups and sessions are deleted; 0: never. */
  purgeIntervalSeconds: number
  cookies: { sameSite: 'lax' | 'strict' | 'none', domain?: string, secure: boolean }
  redisUrl?: string
  redisKeyPrefix: string
  /** Requests per window per client address; the window is a minute unless RATE_LIMIT_WINDOW_SECONDS says otherwise. */
  rateLimits: { enabled: boolean, windowSeconds: number, loginPerMinute: number, exchangePerMinute: number, refreshPerMinute: number, nicknamePerMinute: number }
  providerTimeoutMs: number
  /**
   * Prometheus metrics at GET /metrics; absent: off. `token`: on the public port, for
   * `Authorization: Bearer <token>` only. `port`: on a listener of its own at `host`, no token.
   */
  metrics?: { token?: string, port?: number, host: string }
  github?: GitHubConfig
  kakao?: KakaoConfig
  naver?: NaverConfig
  apple?: AppleConfig
  google?: Omit<OidcConfig, 'scopes' | 'displayName'> & {
    /** GOOGLE_NATIVE_CLIENT_IDS: the iOS and Android client ids whose id_tokens POST /auth/google/token accepts. */
    nativeClientIds: string[]
  }
  oidc?: OidcConfig
  /** The OIDC_<NAME>_* issuers, by NAME. */
  oidcIssuers: OidcIssuerConfig[]
  /**
   * PROVIDER_TOKEN_KEYS as given: AES-256-GCM keys for the providers' tokens kept at rest, the
   * encrypting one first (src/providers/token-vault.ts parses them). Absent outside production: a key
   * is generated and kept under dataDir; absent in production: no provider token is kept.
   */
  providerTokenKeys?: string
  /** When a provider unlinks an account's last identity: delete the account, or keep it signed out. */
  onLastIdentityUnlinked: 'delete' | 'keep'
  devLogin: boolean
  demoApp: boolean
  /** Swagger UI at /docs and the OpenAPI document at /docs/json. */
  docsEnabled: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const trimSlash = (url: string) => url.replace(/\/+$/, '')

/** A URL's hostname (WHATWG-normalized: lower-case, IPv4 in dotted decimal, IPv6 in brackets) on this machine only. */
export const isLoopback = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'))

/** Validates the environment (plus `.env` when asked) and returns a frozen, typed config. */
export function loadConfig (env: Record<string, string | undefined> = process.env, options: { dotenv?: boolean } = {}): Readonly<Config> {
  let parsed: Env
  const oidcNames = namedOidcIssuers(env)
  const schema = Type.Object({ ...EnvSchema.properties, ...Object.assign({}, ...oidcNames.map(({ name }) => namedOidcSettings(`OIDC_${name}`))) })
  try {
    parsed = envSchema<Env>({ schema: structuredClone(schema), data: { ...env }, env: false, dotenv: options.dotenv ?? false })
  } catch (error) {
    throw new ConfigError(describeSchemaErrors(error))
  }

  const require = (condition: boolean, setting: string, problem: string) => {
    if (!condition) throw new ConfigError(`Invalid setting ${setting}: ${problem}`)
  }
  const production = parsed.NODE_ENV === 'production'
  const algorithm = parsed.JWT_ALGORITHM as JwtAlgorithm
  require(!production || algorithm !== 'HS256' || parsed.JWT_SECRET !== undefined, 'JWT_SECRET', 'is required in production (at least 32 characters)')
  const secretRule = `needs an estimated ${MIN_SECRET_BITS} bits of entropy, by characters and by steps between them, and ${MIN_SECRET_DISTINCT_CHARACTERS} distinct characters`
  require(!production || parsed.JWT_SECRET === undefined || !isGuessableSecret(parsed.JWT_SECRET), 'JWT_SECRET', `too easy to guess for production (${secretRule}; generate one with: openssl rand -base64 32)`)
  const jwtPreviousSecrets = parsed.JWT_PREVIOUS_SECRETS.split(',').filter(Boolean)
  const guessablePrevious = production ? jwtPreviousSecrets.findIndex(isGuessableSecret) : -1
  require(guessablePrevious === -1, 'JWT_PREVIOUS_SECRETS', `secret ${guessablePrevious + 1} is too easy to guess for production (${secretRule}); tokens it signed can be forged: drop it`)
  require(!production || algorithm === 'HS256' || parsed.JWT_PRIVATE_KEYS !== undefined, 'JWT_PRIVATE_KEYS', `is required in production with JWT_ALGORITHM=${algorithm}`)
  require(algorithm !== 'HS256' || parsed.JWT_PRIVATE_KEYS === undefined, 'JWT_PRIVATE_KEYS', 'is only used with JWT_ALGORITHM=ES256 or EdDSA')
  require(!production || parsed.METRICS_TOKEN === undefined || !isGuessableSecret(parsed.METRICS_TOKEN), 'METRICS_TOKEN', `too easy to guess for production (${secretRule}; generate one with: openssl rand -base64 32)`)
  require(parsed.METRICS_HOST === undefined || parsed.METRICS_PORT !== undefined, 'METRICS_HOST', 'is only used with METRICS_PORT')
  require(parsed.METRICS_PORT === undefined || parsed.METRICS_PORT === 0 || parsed.METRICS_PORT !== parsed.PORT, 'METRICS_PORT', 'must differ from PORT (it serves /metrics without a token)')
  require(!(production && parsed.DEV_LOGIN), 'DEV_LOGIN', 'the dev provider cannot be enabled in production')
  require(parsed.GITHUB_CLIENT_ID === undefined || parsed.GITHUB_CLIENT_SECRET !== undefined, 'GITHUB_CLIENT_SECRET', 'is required when GITHUB_CLIENT_ID is set')
  require(parsed.NAVER_CLIENT_ID === undefined || parsed.NAVER_CLIENT_SECRET !== undefined, 'NAVER_CLIENT_SECRET', 'is required when NAVER_CLIENT_ID is set')
  require(parsed.KAKAO_ADMIN_KEY === undefined || parsed.KAKAO_APP_ID !== undefined, 'KAKAO_APP_ID', 'is required when KAKAO_ADMIN_KEY is set (the unlink webhook checks both)')
  const apple = appleConfig(parsed, require)
  require(parsed.GOOGLE_CLIENT_ID === undefined || parsed.GOOGLE_CLIENT_SECRET !== undefined, 'GOOGLE_CLIENT_SECRET', 'is required when GOOGLE_CLIENT_ID is set')
  require(parsed.KAKAO_NATIVE_APP_KEYS === '' || parsed.KAKAO_CLIENT_ID !== undefined, 'KAKAO_NATIVE_APP_KEYS', 'is only used with KAKAO_CLIENT_ID (Kakao enabled)')
  require(parsed.GOOGLE_NATIVE_CLIENT_IDS === '' || parsed.GOOGLE_CLIENT_ID !== undefined, 'GOOGLE_NATIVE_CLIENT_IDS', 'is only used with GOOGLE_CLIENT_ID (Google enabled)')
  const nativeRedirects = parseNativeRedirectUris(parsed.NATIVE_REDIRECT_URIS)
  if ('problem' in nativeRedirects) throw new ConfigError(`Invalid setting NATIVE_REDIRECT_URIS: ${nativeRedirects.problem}`)
  require(parsed.OIDC_CLIENT_ID === undefined || parsed.OIDC_ISSUER !== undefined, 'OIDC_ISSUER', 'is required when OIDC_CLIENT_ID is set')
  require(parsed.OIDC_CLIENT_ID === undefined || parsed.OIDC_CLIENT_SECRET !== undefined, 'OIDC_CLIENT_SECRET', 'is required when OIDC_CLIENT_ID is set')

  const oidcIssuers = oidcNames.map(({ name, id }): OidcIssuerConfig => {
    const prefix = `OIDC_${name}`
    const setting = (suffix: string) => (parsed as unknown as Record<string, string | undefined>)[`${prefix}_${suffix}`]
    for (const suffix of ['CLIENT_ID', 'ISSUER', 'CLIENT_SECRET']) require(setting(suffix) !== undefined, `${prefix}_${suffix}`, `is required for the OpenID Connect issuer ${prefix}_* (provider id "${id}")`)
    return {
      id,
      settingPrefix: prefix,
      issuer: setting('ISSUER') as string,
      clientId: setting('CLIENT_ID') as string,
      clientSecret: setting('CLIENT_SECRET') as string,
      scopes: (setting('SCOPES') as string).split(/\s+/).filter(Boolean),
      displayName: setting('NAME') ?? id,
      trustEmail: (parsed as unknown as Record<string, boolean>)[`${prefix}_TRUST_EMAIL`]
    }
  })

  const trustProxy = parseTrustProxy(parsed.TRUST_PROXY)
  require(trustProxy !== undefined, 'TRUST_PROXY', `must be false, a hop count (1, 2…) or a comma-separated list of proxy addresses or CIDRs (10.0.0.0/8,127.0.0.1), not "${parsed.TRUST_PROXY}"`)

  const publicUrl = trimSlash(parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`)
  const frontendUrl = parsed.FRONTEND_URL ?? `${publicUrl}/`
  const secure = publicUrl.startsWith('https:')
  require(!production || secure || parsed.ALLOW_INSECURE_HTTP, 'PUBLIC_URL', 'must be https in production (cookies need Secure); set ALLOW_INSECURE_HTTP=true to override')
  const httpAllowed = !production || parsed.ALLOW_INSECURE_HTTP
  require(httpAllowed || parsed.FRONTEND_URL === undefined || parsed.FRONTEND_URL.startsWith('https:'), 'FRONTEND_URL', 'must be https in production (the one-time code travels to it); set ALLOW_INSECURE_HTTP=true to override')
  require(!production || parsed.HANDOFF_CODE_IN !== 'query' || parsed.BIND_CODE_TO_BROWSER, 'HANDOFF_CODE_IN', '"query" needs BIND_CODE_TO_BROWSER=true in production (a code in the query string reaches server logs and browser history, and an unbound code works in any browser)')
  require(parsed.COOKIE_SAMESITE !== 'none' || secure, 'COOKIE_SAMESITE', '"none" needs an https PUBLIC_URL (browsers drop SameSite=None cookies without Secure)')
  const publicHost = new URL(publicUrl).hostname
  require(!parsed.DEV_LOGIN || isLoopback(publicHost), 'DEV_LOGIN', `the dev provider only runs on a loopback PUBLIC_URL (localhost, 127.0.0.0/8, ::1), not ${publicHost}`)
  // PUBLIC_URL is only what we call ourselves: listening on every interface (a container, a tunnel)
  // would still let the whole network sign in as anyone.
  require(!parsed.DEV_LOGIN || isLoopback(parsed.HOST.includes(':') ? `[${parsed.HOST}]` : parsed.HOST.toLowerCase()), 'DEV_LOGIN',
    `the dev provider only runs on a server listening on loopback (HOST=127.0.0.1, localhost or ::1), not ${parsed.HOST}`)
  const frontendOrigin = new URL(frontendUrl).origin
  const listedOrigins = parsed.FRONTEND_ORIGINS.split(',').map(origin => trimSlash(origin.trim())).filter(Boolean)
  const httpOrigin = listedOrigins.find(origin => !origin.startsWith('https:'))
  require(httpAllowed || httpOrigin === undefined, 'FRONTEND_ORIGINS', `${httpOrigin} must be https in production (it is trusted with the session cookies); set ALLOW_INSECURE_HTTP=true to override`)

  return Object.freeze({
    nodeEnv: parsed.NODE_ENV,
    host: parsed.HOST,
    port: parsed.PORT,
    publicUrl,
    prefix: '',
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL,
    dataDir: parsed.DATA_DIR,
    migrateOnStart: parsed.MIGRATE_ON_START,
    databaseConnectTimeoutSeconds: parsed.DATABASE_CONNECT_TIMEOUT_SECONDS,
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
    frontendUrl,
    frontendOrigin,
    allowedOrigins: [...new Set([frontendOrigin, ...listedOrigins])],
    trustProxy: trustProxy as Config['trustProxy'],
    handoffCodeIn: parsed.HANDOFF_CODE_IN,
    jwtSecret: parsed.JWT_SECRET,
    jwtPreviousSecrets,
    jwtAlgorithm: algorithm,
    jwtPrivateKeys: parsed.JWT_PRIVATE_KEYS,
    accessTokenTtlSeconds: parsed.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: parsed.REFRESH_TOKEN_TTL_SECONDS,
    loginCodeTtlSeconds: parsed.LOGIN_CODE_TTL_SECONDS,
    signupTtlSeconds: parsed.SIGNUP_TTL_SECONDS,
    linkByVerifiedEmail: parsed.LINK_BY_VERIFIED_EMAIL,
    refreshReuseGraceSeconds: parsed.REFRESH_REUSE_GRACE_SECONDS,
    sessionMaxLifetimeSeconds: parsed.SESSION_MAX_LIFETIME_SECONDS,
    reauthMaxAgeSeconds: parsed.REAUTH_MAX_AGE_SECONDS,
    bindCodeToBrowser: parsed.BIND_CODE_TO_BROWSER,
    nativeRedirectUris: nativeRedirects.uris,
    purgeIntervalSeconds: parsed.PURGE_INTERVAL_SECONDS,
    cookies: { sameSite: parsed.COOKIE_SAMESITE, domain: parsed.COOKIE_DOMAIN, secure },
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    rateLimits: {
      enabled: parsed.RATE_LIMIT_ENABLED,
      windowSeconds: parsed.RATE_LIMIT_WINDOW_SECONDS,
      loginPerMinute: parsed.RATE_LIMIT_LOGIN_PER_MINUTE,
      exchangePerMinute: parsed.RATE_LIMIT_EXCHANGE_PER_MINUTE,
      refreshPerMinute: parsed.RATE_LIMIT_REFRESH_PER_MINUTE,
      nicknamePerMinute: parsed.RATE_LIMIT_NICKNAME_PER_MINUTE
    },
    providerTimeoutMs: parsed.PROVIDER_TIMEOUT_MS,
    metrics: parsed.METRICS_TOKEN === undefined && parsed.METRICS_PORT === undefined
      ? undefined
      : { token: parsed.METRICS_TOKEN, port: parsed.METRICS_PORT, host: parsed.METRICS_HOST ?? '127.0.0.1' },
    github: parsed.GITHUB_CLIENT_ID === undefined
      ? undefined
      : {
          clientId: parsed.GITHUB_CLIENT_ID,
          clientSecret: parsed.GITHUB_CLIENT_SECRET as string,
          webUrl: trimSlash(parsed.GITHUB_WEB_URL),
          apiUrl: trimSlash(parsed.GITHUB_API_URL)
        },
    kakao: parsed.KAKAO_CLIENT_ID === undefined
      ? undefined
      : {
          clientId: parsed.KAKAO_CLIENT_ID,
          clientSecret: parsed.KAKAO_CLIENT_SECRET,
          authUrl: trimSlash(parsed.KAKAO_AUTH_URL),
          apiUrl: trimSlash(parsed.KAKAO_API_URL),
          extraScopes: parsed.KAKAO_SCOPES.split(/[\s,]+/).filter(Boolean),
          oidc: parsed.KAKAO_OIDC,
          adminKey: parsed.KAKAO_ADMIN_KEY,
          appId: parsed.KAKAO_APP_ID,
          logoutRedirectUri: parsed.KAKAO_LOGOUT_REDIRECT_URI,
          requiredFields: requiredFields(parsed.KAKAO_REQUIRED_FIELDS),
          nativeAppKeys: idList(parsed.KAKAO_NATIVE_APP_KEYS)
        },
    naver: parsed.NAVER_CLIENT_ID === undefined
      ? undefined
      : {
          clientId: parsed.NAVER_CLIENT_ID,
          clientSecret: parsed.NAVER_CLIENT_SECRET as string,
          authUrl: trimSlash(parsed.NAVER_AUTH_URL),
          apiUrl: trimSlash(parsed.NAVER_API_URL),
          oidc: parsed.NAVER_OIDC,
          requiredFields: requiredFields(parsed.NAVER_REQUIRED_FIELDS),
          unlinkWindowSeconds: parsed.NAVER_UNLINK_WINDOW_SECONDS
        },
    apple,
    google: parsed.GOOGLE_CLIENT_ID === undefined
      ? undefined
      : { issuer: parsed.GOOGLE_ISSUER, clientId: parsed.GOOGLE_CLIENT_ID, clientSecret: parsed.GOOGLE_CLIENT_SECRET as string, nativeClientIds: idList(parsed.GOOGLE_NATIVE_CLIENT_IDS) },
    oidc: parsed.OIDC_CLIENT_ID === undefined
      ? undefined
      : {
          issuer: parsed.OIDC_ISSUER as string,
          clientId: parsed.OIDC_CLIENT_ID,
          clientSecret: parsed.OIDC_CLIENT_SECRET as string,
          scopes: parsed.OIDC_SCOPES.split(/\s+/).filter(Boolean),
          displayName: parsed.OIDC_NAME
        },
    oidcIssuers,
    providerTokenKeys: parsed.PROVIDER_TOKEN_KEYS,
    onLastIdentityUnlinked: parsed.ON_LAST_IDENTITY_UNLINKED,
    devLogin: parsed.DEV_LOGIN,
    demoApp: parsed.DEMO_APP,
    docsEnabled: parsed.DOCS_ENABLED
  })
}

/**
 * Sign in with Apple, enabled by APPLE_CLIENT_ID: the team, the key and its id go with it, and the key
 * is read and parsed now, so a truncated .p8 stops the start (and `handoff check`) naming the setting.
 */
function appleConfig (parsed: Env, require: (condition: boolean, setting: string, problem: string) => void): AppleConfig | undefined {
  if (parsed.APPLE_CLIENT_ID === undefined) {
    for (const setting of ['APPLE_TEAM_ID', 'APPLE_KEY_ID', 'APPLE_PRIVATE_KEY', 'APPLE_PRIVATE_KEY_FILE'] as const) {
      require(parsed[setting] === undefined, setting, 'is only used with APPLE_CLIENT_ID (the Services ID)')
    }
    return undefined
  }
  require(parsed.APPLE_TEAM_ID !== undefined, 'APPLE_TEAM_ID', 'is required when APPLE_CLIENT_ID is set (the 10-character Team ID)')
  require(parsed.APPLE_KEY_ID !== undefined, 'APPLE_KEY_ID', 'is required when APPLE_CLIENT_ID is set (the 10-character Key ID of the Sign in with Apple key)')
  require(parsed.APPLE_PRIVATE_KEY === undefined || parsed.APPLE_PRIVATE_KEY_FILE === undefined, 'APPLE_PRIVATE_KEY_FILE', 'set APPLE_PRIVATE_KEY or APPLE_PRIVATE_KEY_FILE, not both')
  let setting = 'APPLE_PRIVATE_KEY'
  let text = parsed.APPLE_PRIVATE_KEY
  if (parsed.APPLE_PRIVATE_KEY_FILE !== undefined) {
    setting = 'APPLE_PRIVATE_KEY_FILE'
    try {
      text = readFileSync(parsed.APPLE_PRIVATE_KEY_FILE, 'utf8')
    } catch (error) {
      require(false, setting, `cannot read ${parsed.APPLE_PRIVATE_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  require(text !== undefined, 'APPLE_PRIVATE_KEY', 'is required when APPLE_CLIENT_ID is set (the .p8 key\'s PEM text; or APPLE_PRIVATE_KEY_FILE, its path)')
  const key = parseApplePrivateKey(text as string)
  if ('problem' in key) throw new ConfigError(`Invalid setting ${setting}: ${key.problem}`)
  return {
    clientId: parsed.APPLE_CLIENT_ID,
    teamId: parsed.APPLE_TEAM_ID as string,
    keyId: parsed.APPLE_KEY_ID as string,
    privateKey: key.key,
    authUrl: trimSlash(parsed.APPLE_AUTH_URL),
    appIds: [...new Set(parsed.APPLE_APP_IDS.split(',').map(id => id.trim()).filter(Boolean))]
  }
}

// proxy-addr's names for the loopback, link-local and unique-local ranges.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

const isProxyAddress = (entry: string): boolean => {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address, prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
}

/** TRUST_PROXY as Fastify takes it; undefined when it is none of the accepted forms. */
function parseTrustProxy (value: string): Config['trustProxy'] | undefined {
  const text = value.trim()
  if (text === 'false') return false
  if (text === 'true') return true
  if (/^[1-9]\d?$/.test(text)) return Number(text)
  const entries = text.split(',').map(entry => entry.trim())
  return entries.every(isProxyAddress) ? entries : undefined
}

interface SchemaError { instancePath: string, message?: string, keyword: string, params: Record<string, unknown> }

/** Turns ajv's errors into one line that names each bad setting. */
function describeSchemaErrors (error: unknown): string {
  const errors = (error as { errors?: SchemaError[] }).errors
  if (!Array.isArray(errors)) return `Invalid configuration: ${(error as Error).message}`
  const problems = new Map<string, string>()
  for (const { instancePath, message, keyword, params } of errors) {
    const setting = instancePath.slice(1) || String(params.missingProperty ?? 'configuration')
    // A union's branches each report; keep one readable line per setting.
    if (problems.has(setting) && keyword !== 'anyOf') continue
    const allowed = keyword === 'anyOf' ? `must be one of ${describeUnion(setting)}` : message ?? 'is invalid'
    problems.set(setting, allowed)
  }
  return [...problems].map(([setting, problem]) => `Invalid setting ${setting}: ${problem}`).join('; ')
}

function describeUnion (setting: string): string {
  const schema = (EnvSchema.properties as Record<string, { anyOf?: Array<{ const?: unknown }> }>)[setting]
  return (schema?.anyOf ?? []).map(branch => String(branch.const)).join(', ')
}
