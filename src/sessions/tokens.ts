import { createHash, createPrivateKey, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import fastifyJwt from '@fastify/jwt'
import { createVerifier } from 'fast-jwt'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { NotAuthenticatedError } from '../errors.js'
import { sessionCookies } from './cookies.js'
import { VerifiedTokens } from './verified-tokens.js'
import { generatePrivateKey, keyPair, type JwtAlgorithm, type KeyPair, type PublicJwk } from './signing-keys.js'

/** The claims of our access JWT, besides the registered ones (iat, exp, iss, aud). */
export interface AccessClaims {
  sub: string
  /** The session (refresh family) this token belongs to. */
  sid: string
  nickname: string
  picture?: string
}

export interface PublicUser {
  id: string
  nickname: string
  avatarUrl: string | null
}

/** `request.user` once the access cookie is verified. */
export interface AuthUser {
  id: string
  nickname: string
  sessionId: string
  avatarUrl: string | null
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims
    user: AuthUser
  }
}

export const ACCESS_TOKEN_AUDIENCE = 'handoff'

/** A signing secret and the key id that names it in the JWT header. */
export interface SigningKey { kid: string, secret: string }

export const signingKey = (secret: string): SigningKey =>
  ({ kid: createHash('sha256').update(secret).digest('base64url').slice(0, 12), secret })

declare module '../namespace.js' {
  interface HandoffNamespace {
    accessTokens: {
      verify(request: FastifyRequest): AuthUser
      /** The public keys that verify our access tokens (none for HS256), for /.well-known/jwks.json. */
      publicKeys: PublicJwk[]
    }
    /** preHandler: a valid access cookie of a session not revoked (no query), or 401 `not_authenticated`. Sets `request.user`. */
    authenticate: typeof authenticate
    /** preHandler: as `authenticate`, and the database confirms the session is alive (one indexed query). */
    authenticateSession: typeof authenticateSession
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `app.handoff.authenticate`, also here unless the host app decorated its own `authenticate` first. */
    authenticate: typeof authenticate
    /** `app.handoff.authenticateSession`, also here unless the host app decorated its own first. */
    authenticateSession: typeof authenticateSession
  }
}

/**
 * Signs the access JWT for a session, with the newest key. Through the instance's signer, made once:
 * `reply.jwtSign` builds a new fast-jwt signer (and key object) for every token, ~10 µs a request.
 */
export function signAccessToken (reply: FastifyReply, user: PublicUser, sessionId: string): string {
  const claims: AccessClaims = { sub: user.id, sid: sessionId, nickname: user.nickname }
  if (user.avatarUrl !== null) claims.picture = user.avatarUrl
  return reply.server.jwt.sign(claims)
}

/** Reads and verifies the access cookie, setting `request.user`; throws 401 `not_authenticated`. */
export function verifyAccessToken (request: FastifyRequest): AuthUser {
  const user = request.server.handoff.accessTokens.verify(request)
  request.user = user
  return user
}

/** A preHandler for routes that need a signed-in user (from the token and the revoked sessions in memory, no query). */
export async function authenticate (request: FastifyRequest): Promise<void> {
  verifyAccessToken(request)
}

/**
 * A preHandler that also asks the database whether the session is alive (one indexed lookup): for
 * routes that must see a revocation committed by another instance this very moment, before that
 * instance's broadcast arrives, or a session past its expiry.
 */
export async function authenticateSession (request: FastifyRequest): Promise<void> {
  const user = verifyAccessToken(request)
  const rows = await request.server.handoff.db.sql.query(
    'SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2', [user.sessionId, request.server.handoff.clock.now()])
  if (rows.length === 0) throw new NotAuthenticatedError()
}

// We only ever issue database UUIDs as sub and sid; anything else would reach a uuid column.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Claims of the wrong shape (only a leaked key could sign them) are refused, not answered with a 500. */
function userFromClaims (claims: AccessClaims): AuthUser {
  const { sub, sid, nickname, picture } = claims
  if (typeof sub !== 'string' || !UUID.test(sub) || typeof sid !== 'string' || !UUID.test(sid) ||
    typeof nickname !== 'string' || (picture !== undefined && typeof picture !== 'string')) {
    throw new NotAuthenticatedError()
  }
  return { id: sub, nickname, sessionId: sid, avatarUrl: picture ?? null }
}

// Clocks of instances differ a little; a token is never issued for longer than the TTL.
const LIFETIME_SKEW_SECONDS = 60

/**
 * A token we issued has `exp` = `iat` + ACCESS_TOKEN_TTL_SECONDS and an `iat` not in the future.
 * Only a leaked signing key makes anything else, e.g. a token for ten years: refused.
 */
function issuedAsWeIssue ({ iat, exp }: { iat?: unknown, exp: number }, ttlSeconds: number): boolean {
  return typeof iat === 'number' && iat <= Date.now() / 1000 + LIFETIME_SKEW_SECONDS && exp - iat <= ttlSeconds + LIFETIME_SKEW_SECONDS
}

export const publicUser = ({ id, nickname, avatarUrl }: PublicUser): PublicUser => ({ id, nickname, avatarUrl })

/**
 * Outside production a missing JWT_SECRET is generated once and kept under DATA_DIR, so sessions
 * survive a restart of the dev server. Production refuses to start without one (config.ts).
 */
export async function resolveJwtSecret (config: Config, log: FastifyBaseLogger): Promise<string> {
  if (config.jwtSecret !== undefined) return config.jwtSecret
  return readOrCreate(path.resolve(config.dataDir, 'jwt-secret'), () => randomBytes(48).toString('base64url'),
    log, 'JWT_SECRET is not set: generated a development secret. Set JWT_SECRET in production.')
}

/** The same for ES256 / EdDSA without JWT_PRIVATE_KEYS: one key pair, kept as PEM under DATA_DIR. */
export async function resolveKeyPairs (config: Config, algorithm: Exclude<JwtAlgorithm, 'HS256'>, log: FastifyBaseLogger): Promise<KeyPair[]> {
  if (config.jwtPrivateKeys.length > 0) return config.jwtPrivateKeys
  const pem = await readOrCreate(path.resolve(config.dataDir, `jwt-${algorithm.toLowerCase()}.pem`),
    () => generatePrivateKey(algorithm).export({ type: 'pkcs8', format: 'pem' }).toString(),
    log, `JWT_PRIVATE_KEYS is not set: generated a development ${algorithm} key. Set JWT_PRIVATE_KEYS in production.`)
  return [keyPair(createPrivateKey(pem), algorithm)]
}

async function readOrCreate (file: string, create: () => string, log: FastifyBaseLogger, warning: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    const value = create()
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, value, { mode: 0o600 })
    log.warn({ file }, warning)
    return value
  }
}

/** A key that verifies (HS256 secret or public key PEM), and the one that signs, named by kid. */
interface TokenKeys { algorithm: JwtAlgorithm, sign: { kid: string, key: string | { private: string, public: string } }, verify: Array<{ kid: string, key: string }>, publicKeys: PublicJwk[] }

async function tokenKeys (config: Config, log: FastifyBaseLogger): Promise<TokenKeys> {
  const algorithm = config.jwtAlgorithm
  if (algorithm === 'HS256') {
    const keys = [await resolveJwtSecret(config, log), ...config.jwtPreviousSecrets].map(signingKey)
    return { algorithm, sign: { kid: keys[0].kid, key: keys[0].secret }, verify: keys.map(({ kid, secret }) => ({ kid, key: secret })), publicKeys: [] }
  }
  const pairs = await resolveKeyPairs(config, algorithm, log)
  return {
    algorithm,
    sign: { kid: pairs[0].kid, key: { private: pairs[0].privateKeyPem, public: pairs[0].publicKeyPem } },
    verify: pairs.map(pair => ({ kid: pair.kid, key: pair.publicKeyPem })),
    publicKeys: pairs.map(pair => pair.publicJwk)
  }
}

/** The `kid` of a JWT header segment (base64url JSON), if any. */
const headerKid = (header: string): unknown => {
  try {
    return (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid?: unknown }).kid
  } catch {
    return undefined
  }
}

type Verifier = (token: string) => unknown

/**
 * The verifier for a token's key, by its header's `kid`. Every token one key signs has the same
 * header segment, so the answer is remembered by segment (a few entries at most) instead of decoding
 * the header's JSON on every request.
 */
function verifierLookup (verifiers: Map<string, Verifier>): (token: string) => Verifier | undefined {
  const byHeader = new Map<string, Verifier>()
  return token => {
    const end = token.indexOf('.')
    if (end <= 0) return undefined
    const header = token.slice(0, end)
    let verifier = byHeader.get(header)
    if (verifier === undefined) {
      verifier = verifiers.get(headerKid(header) as string)
      // Bounded: a client can vary the header's JSON, never grow this past a handful of entries.
      if (verifier !== undefined && byHeader.size < 32) byHeader.set(header, verifier)
    }
    return verifier
  }
}

// A few MB at most (a token and its user per entry): room for 10,000 users active within an access token's life.
const VERIFIED_TOKENS_CAPACITY = 10_000

/**
 * @fastify/jwt signs with the newest key. Verification picks the key by the header's `kid` among
 * JWT_SECRET and JWT_PREVIOUS_SECRETS (or the JWT_PRIVATE_KEYS' public halves), so the signing key
 * can rotate without signing everyone out;
 * it uses fast-jwt (the engine inside @fastify/jwt) directly, one verifier per key, in front of them
 * a cache of verified tokens (verified-tokens.ts): a cached token is still refused once expired.
 */
async function accessTokens (app: FastifyInstance, { config }: { config: Config }) {
  const keys = await tokenKeys(config, app.log)
  const cookieName = sessionCookies(config).accessName
  await app.register(fastifyJwt, {
    secret: keys.sign.key,
    sign: { algorithm: keys.algorithm, expiresIn: config.accessTokenTtlSeconds, iss: config.publicUrl, aud: ACCESS_TOKEN_AUDIENCE, kid: keys.sign.kid }
  })
  const verifiers = new Map(keys.verify.map(({ kid, key }) => [kid, createVerifier({
    key, algorithms: [keys.algorithm], allowedIss: config.publicUrl, allowedAud: ACCESS_TOKEN_AUDIENCE, requiredClaims: ['exp', 'iat', 'iss', 'aud']
  })]))
  const verifierFor = verifierLookup(verifiers)
  const verified = new VerifiedTokens<AuthUser>(VERIFIED_TOKENS_CAPACITY)
  const revoked = app.handoff.sessionRevocations

  app.handoff.authenticate = authenticate
  app.handoff.authenticateSession = authenticateSession
  // The short names are the ones the README shows; a host app that has its own keeps them.
  if (!app.hasDecorator('authenticate')) app.decorate('authenticate', authenticate)
  if (!app.hasDecorator('authenticateSession')) app.decorate('authenticateSession', authenticateSession)
  app.handoff.accessTokens = ({
    publicKeys: keys.publicKeys,
    verify (request: FastifyRequest): AuthUser {
      const token = request.cookies[cookieName]
      if (token === undefined) throw new NotAuthenticatedError()
      const known = verified.get(token)
      if (known !== undefined) {
        if (revoked.has(known.sessionId)) throw new NotAuthenticatedError()
        return known
      }
      const verifier = verifierFor(token)
      if (verifier === undefined) throw new NotAuthenticatedError()
      let claims: AccessClaims & { exp: number }
      try {
        claims = verifier(token) as AccessClaims & { exp: number }
      } catch {
        throw new NotAuthenticatedError()
      }
      if (!issuedAsWeIssue(claims, config.accessTokenTtlSeconds)) throw new NotAuthenticatedError()
      // Shared by every request that presents this token: frozen, so none can change it for the others.
      const user = Object.freeze(userFromClaims(claims))
      if (revoked.has(user.sessionId)) throw new NotAuthenticatedError()
      verified.set(token, user, claims.exp)
      return user
    }
  })
}

export default fp(accessTokens, { name: 'access-tokens', dependencies: ['@fastify/cookie', 'database', 'session-revocations'] })
