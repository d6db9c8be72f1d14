import { createSigner } from 'fast-jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { NotAuthenticatedError } from '../errors.js'
import { ACCESS_TOKEN_AUDIENCE, type AccessClaims, type AuthUser } from './access-claims.js'
import { accessTokenVerifier } from './access-token-verification.js'
import { sessionCookies } from './cookies.js'
import { authenticate, authenticateSession } from './guards.js'
import { loadSigningKeys, type PublicJwk } from './signing-keys.js'

declare module '../namespace.js' {
  interface HandoffNamespace {
    accessTokens: {
      /** Signs the access JWT of these claims with the newest key (access-token-signing.ts). */
      sign(claims: AccessClaims): string
      verify(request: FastifyRequest): AuthUser
      /** The public keys that verify our access tokens (none for HS256), for /.well-known/jwks.json. */
      publicKeys: PublicJwk[]
    }
    /**
     * preHandler: a valid access token of a session not revoked (no query), or 401 `not_authenticated`.
     * A browser session's from its cookie, a native app's from `Authorization: Bearer`. Sets `request.user`.
     */
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
 * The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), '' for a malformed one (refused), or
 * undefined without a bearer header. Only a native app's token is accepted there, and only there: a
 * browser session's token lives in its HttpOnly cookie, and one copied out of it (a log, a proxy) is
 * refused as a header.
 */
export function bearerToken (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string' || !/^bearer(\s|$)/i.test(header)) return undefined
  return /^bearer +([\w.~+/-]+=*) *$/i.exec(header)?.[1] ?? ''
}

/**
 * The access cookie's JWT: loads the keys (signing-keys.ts), signs with the newest
 * (access-token-signing.ts) and verifies with each key by kid (access-token-verification.ts).
 */
async function accessTokens (app: FastifyInstance, { config }: { config: Config }) {
  const keys = await loadSigningKeys(config, app.log)
  const cookieName = sessionCookies(config).accessName
  // fast-jwt directly (the engine inside @fastify/jwt, which verification uses already, one verifier
  // per key id): @fastify/jwt would decorate `jwt` and `request.user` on the host app, and a host
  // app that signs its own tokens with @fastify/jwt could then not register handoff. One signer,
  // made once: building one per token costs ~10 µs.
  const signer = createSigner({
    key: typeof keys.sign.key === 'string' ? keys.sign.key : keys.sign.key.private,
    algorithm: keys.algorithm,
    expiresIn: config.accessTokenTtlSeconds * 1000,
    iss: config.publicUrl,
    aud: ACCESS_TOKEN_AUDIENCE,
    kid: keys.sign.kid
  })
  const verify = accessTokenVerifier({ keys, issuer: config.publicUrl, ttlSeconds: config.accessTokenTtlSeconds, revoked: app.handoff.sessionRevocations })

  app.handoff.authenticate = authenticate
  app.handoff.authenticateSession = authenticateSession
  // The short names are the ones the README shows; a host app that has its own keeps them.
  for (const [name, guard] of [['authenticate', authenticate], ['authenticateSession', authenticateSession]] as const) {
    if (!app.hasDecorator(name)) app.decorate(name, guard)
    else app.log.warn(`handoff: this app has its own ${name}; handoff's is app.handoff.${name}`)
  }
  app.handoff.accessTokens = {
    sign: claims => signer({ ...claims }),
    publicKeys: keys.publicKeys,
    verify (request: FastifyRequest): AuthUser {
      // A request with a bearer token is judged by it alone, and a cookie never stands in for it.
      const bearer = bearerToken(request)
      if (bearer !== undefined) {
        const user = verify(bearer)
        if (user.client !== 'native') throw new NotAuthenticatedError()
        return user
      }
      const token = request.cookies[cookieName]
      if (token === undefined) throw new NotAuthenticatedError()
      const user = verify(token)
      if (user.client !== 'browser') throw new NotAuthenticatedError()
      return user
    }
  }
}

export default fp(accessTokens, { name: 'access-tokens', dependencies: ['@fastify/cookie', 'database', 'session-revocations'] })
