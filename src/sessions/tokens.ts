import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import fastifyJwt from '@fastify/jwt'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { NotAuthenticatedError } from '../errors.js'
import { sessionCookies } from './cookies.js'

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

/** Signs the access JWT for a session. */
export function signAccessToken (reply: FastifyReply, user: PublicUser, sessionId: string): Promise<string> {
  const claims: AccessClaims = { sub: user.id, sid: sessionId, nickname: user.nickname }
  if (user.avatarUrl !== null) claims.picture = user.avatarUrl
  return reply.jwtSign(claims)
}

/** Reads and verifies the access cookie, setting `request.user`; rejects with 401 `not_authenticated`. */
export async function verifyAccessToken (request: FastifyRequest): Promise<AuthUser> {
  try {
    return await request.jwtVerify<AuthUser>()
  } catch {
    throw new NotAuthenticatedError()
  }
}

/** A preHandler for routes that need a signed-in user. */
export async function authenticate (request: FastifyRequest): Promise<void> {
  await verifyAccessToken(request)
}

const userFromClaims = (claims: AccessClaims): AuthUser =>
  ({ id: claims.sub, nickname: claims.nickname, sessionId: claims.sid, avatarUrl: claims.picture ?? null })

export const publicUser = ({ id, nickname, avatarUrl }: PublicUser): PublicUser => ({ id, nickname, avatarUrl })

/**
 * Outside production a missing JWT_SECRET is generated once and kept under DATA_DIR, so sessions
 * survive a restart of the dev server. Production refuses to start without one (config.ts).
 */
export async function resolveJwtSecret (config: Config, log: FastifyBaseLogger): Promise<string> {
  if (config.jwtSecret !== undefined) return config.jwtSecret
  const file = path.resolve(config.dataDir, 'jwt-secret')
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    const secret = randomBytes(48).toString('base64url')
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, secret, { mode: 0o600 })
    log.warn({ file }, 'JWT_SECRET is not set: generated a development secret. Set JWT_SECRET in production.')
    return secret
  }
}

async function accessTokens (app: FastifyInstance, { config }: { config: Config }) {
  const secret = await resolveJwtSecret(config, app.log)
  // The key id lets verifiers tell keys apart once several are configured.
  const kid = createHash('sha256').update(secret).digest('base64url').slice(0, 12)
  await app.register(fastifyJwt, {
    secret,
    cookie: { cookieName: sessionCookies(config).accessName, signed: false },
    sign: { algorithm: 'HS256', expiresIn: config.accessTokenTtlSeconds, iss: config.publicUrl, aud: ACCESS_TOKEN_AUDIENCE, kid },
    verify: { algorithms: ['HS256'], allowedIss: config.publicUrl, allowedAud: ACCESS_TOKEN_AUDIENCE, onlyCookie: true },
    formatUser: payload => userFromClaims(payload as AccessClaims)
  })
}

export default fp(accessTokens, { name: 'access-tokens', dependencies: ['@fastify/cookie'] })
