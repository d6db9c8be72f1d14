import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'

export type JwtAlgorithm = 'HS256' | 'ES256' | 'EdDSA'
export const JWT_ALGORITHMS: JwtAlgorithm[] = ['HS256', 'ES256', 'EdDSA']

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
    const json = JSON.parse(value) as JsonWebKey | JsonWebKey[] | { keys: JsonWebKey[] }
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
