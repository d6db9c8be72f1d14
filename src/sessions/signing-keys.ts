import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { ConfigError, type Config, type JwtAlgorithm } from '../config.js'
import { readOrCreateSecretFile as readOrCreate } from '../data-dir.js'

// Where the access tokens' keys come from, and what they are: JWT_SECRET and JWT_PREVIOUS_SECRETS
// (HS256), JWT_PRIVATE_KEYS (ES256, EdDSA), or outside production a key generated once and kept
// under DATA_DIR. The settings hold the text as given; it is parsed here, once, at boot.

/** An asymmetric signing key: the private half signs here, the public half is published at /.well-known/jwks.json. */
export interface KeyPair {
  kid: string
  /** PKCS#8 PEM, what fast-jwt signs with. */
  privateKeyPem: string
  publicKeyPem: string
  publicJwk: PublicJwk
}

/** A public key as published at /.well-known/jwks.json. */
export interface PublicJwk { kty: string, crv: string, x: string, y?: string, kid: string, alg: JwtAlgorithm, use: 'sig' }

const CURVE: Record<Exclude<JwtAlgorithm, 'HS256'>, { type: string, curve?: string, label: string }> = {
  ES256: { type: 'ec', curve: 'prime256v1', label: 'an EC P-256 key' },
  EdDSA: { type: 'ed25519', label: 'an Ed25519 key' }
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
const thumbprint = (jwk: JsonWebKey): string => {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

export function keyPair (privateKey: KeyObject, algorithm: Exclude<JwtAlgorithm, 'HS256'>, kid?: string): KeyPair {
  const expected = CURVE[algorithm]
  if (privateKey.type !== 'private') throw new Error('expected a private key')
  if (privateKey.asymmetricKeyType !== expected.type || (expected.curve !== undefined && privateKey.asymmetricKeyDetails?.namedCurve !== expected.curve)) {
    throw new Error(`${algorithm} needs ${expected.label}, got ${privateKey.asymmetricKeyType} ${privateKey.asymmetricKeyDetails?.namedCurve ?? ''}`.trim())
  }
  const publicKey = createPublicKey(privateKey)
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string, crv: string, x: string, y?: string }
  const id = kid ?? thumbprint(jwk)
  return {
    kid: id,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk: { ...jwk, kid: id, alg: algorithm, use: 'sig' }
  }
}

/**
 * JWT_PRIVATE_KEYS: PEM blocks one after another, or JSON (one private JWK, an array of them, or a
 * JWKS `{ "keys": [...] }`). The first key signs; the others only verify, so a rotated-out key keeps
 * its tokens valid until they expire. A JWK's `kid` is kept; otherwise the kid is the key's RFC 7638
 * thumbprint. `\n` escapes are accepted, as one-line environment values need them.
 */
export function parsePrivateKeys (text: string, algorithm: Exclude<JwtAlgorithm, 'HS256'>): KeyPair[] {
  const value = text.trim().replaceAll('\\n', '\n')
  if (value.startsWith('{') || value.startsWith('[')) {
    let json: JsonWebKey | JsonWebKey[] | { keys: JsonWebKey[] }
    try {
      json = JSON.parse(value)
    } catch {
      // Not the parser's message: newer Node versions quote the input around the error, which here is key material.
      throw new Error('not valid JSON (expected a private JWK, an array of them or a JWKS)')
    }
    const jwks = Array.isArray(json) ? json : Array.isArray((json as { keys?: unknown }).keys) ? (json as { keys: JsonWebKey[] }).keys : [json as JsonWebKey]
    if (jwks.length === 0) throw new Error('no key in the JSON')
    return jwks.map(jwk => keyPair(createPrivateKey({ key: jwk, format: 'jwk' }), algorithm, typeof jwk.kid === 'string' ? jwk.kid : undefined))
  }
  const blocks = value.match(/-----BEGIN (?:EC )?PRIVATE KEY-----[\s\S]+?-----END (?:EC )?PRIVATE KEY-----/g)
  if (blocks === null) throw new Error('expected PEM private keys (-----BEGIN PRIVATE KEY-----) or private JWKs')
  return blocks.map(pem => keyPair(createPrivateKey(pem), algorithm))
}

export function generatePrivateKey (algorithm: Exclude<JwtAlgorithm, 'HS256'>): KeyObject {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('ed25519').privateKey
}

/** A signing secret and the key id that names it in the JWT header. */
export interface SigningKey { kid: string, secret: string }

export const signingKey = (secret: string): SigningKey =>
  ({ kid: createHash('sha256').update(secret).digest('base64url').slice(0, 12), secret })

/** The keys access tokens are signed and verified with, as @fastify/jwt and fast-jwt take them. */
export interface SigningKeys {
  algorithm: JwtAlgorithm
  /** The newest key: it signs. */
  sign: { kid: string, key: string | { private: string, public: string } }
  /** Every key that still verifies (an HS256 secret or a public key PEM), named by kid. */
  verify: Array<{ kid: string, key: string }>
  /** The public keys that verify our access tokens (none for HS256), for /.well-known/jwks.json. */
  publicKeys: PublicJwk[]
}

/** Called once at boot (access-tokens.ts): a JWT_PRIVATE_KEYS that is no key stops the start with a ConfigError naming it. */
export async function loadSigningKeys (config: Config, log: FastifyBaseLogger): Promise<SigningKeys> {
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

/**
 * Outside production a missing JWT_SECRET is generated once and kept under DATA_DIR, so sessions
 * survive a restart of the dev server. Production refuses to start without one (config.ts).
 */
async function resolveJwtSecret (config: Config, log: FastifyBaseLogger): Promise<string> {
  if (config.jwtSecret !== undefined) return config.jwtSecret
  return readOrCreate(path.resolve(config.dataDir, 'jwt-secret'), () => randomBytes(48).toString('base64url'),
    log, 'JWT_SECRET is not set: generated a development secret. Set JWT_SECRET in production.')
}

/** JWT_PRIVATE_KEYS, or the same as above for ES256 / EdDSA without it: one key pair, kept as PEM under DATA_DIR. */
async function resolveKeyPairs (config: Config, algorithm: Exclude<JwtAlgorithm, 'HS256'>, log: FastifyBaseLogger): Promise<KeyPair[]> {
  if (config.jwtPrivateKeys !== undefined) {
    try {
      return parsePrivateKeys(config.jwtPrivateKeys, algorithm)
    } catch (error) {
      throw new ConfigError(`Invalid setting JWT_PRIVATE_KEYS: ${(error as Error).message}`)
    }
  }
  const pem = await readOrCreate(path.resolve(config.dataDir, `jwt-${algorithm.toLowerCase()}.pem`),
    () => generatePrivateKey(algorithm).export({ type: 'pkcs8', format: 'pem' }).toString(),
    log, `JWT_PRIVATE_KEYS is not set: generated a development ${algorithm} key. Set JWT_PRIVATE_KEYS in production.`)
  return [keyPair(createPrivateKey(pem), algorithm)]
}
