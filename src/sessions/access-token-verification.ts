import { createVerifier } from 'fast-jwt'
import { NotAuthenticatedError } from '../errors.js'
import { ACCESS_TOKEN_AUDIENCE, issuedAsWeIssue, userFromClaims, type AccessClaims, type AuthUser } from './access-claims.js'
import type { SigningKeys } from './signing-keys.js'
import { VerifiedTokens } from './verified-tokens.js'

// Verification picks the key by the header's `kid` among JWT_SECRET and JWT_PREVIOUS_SECRETS (or
// the JWT_PRIVATE_KEYS' public halves), so the signing key can rotate without signing everyone out.
// It uses fast-jwt (the engine inside @fastify/jwt) directly, one verifier per key, and in front of
// them a cache of verified tokens (verified-tokens.ts): a cached token is still refused once expired.

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

export interface VerifierOptions {
  keys: SigningKeys
  /** PUBLIC_URL: the issuer we sign as and accept. */
  issuer: string
  ttlSeconds: number
  /** Sessions whose tokens are refused (revocations.ts), checked on cache hits too. */
  revoked: { has(sessionId: string): boolean }
}

/** Verifies an access token and returns its user, or throws 401 `not_authenticated`. */
export function accessTokenVerifier ({ keys, issuer, ttlSeconds, revoked }: VerifierOptions): (token: string) => AuthUser {
  const verifiers = new Map(keys.verify.map(({ kid, key }) => [kid, createVerifier({
    key, algorithms: [keys.algorithm], allowedIss: issuer, allowedAud: ACCESS_TOKEN_AUDIENCE, requiredClaims: ['exp', 'iat', 'iss', 'aud']
  })]))
  const verifierFor = verifierLookup(verifiers)
  const verified = new VerifiedTokens<AuthUser>(VERIFIED_TOKENS_CAPACITY)
  return token => {
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
    if (!issuedAsWeIssue(claims, ttlSeconds)) throw new NotAuthenticatedError()
    // Shared by every request that presents this token: frozen, so none can change it for the others.
    const user = Object.freeze(userFromClaims(claims))
    if (revoked.has(user.sessionId)) throw new NotAuthenticatedError()
    verified.set(token, user, claims.exp)
    return user
  }
}
