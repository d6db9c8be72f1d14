import { randomBytes } from 'node:crypto'
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../config.js'
import { generatePrivateKey, keyPair } from '../sessions/signing-keys.js'

// `handoff keygen --alg HS256|ES256|EdDSA`: a new signing secret or key, printed as the settings that
// take it, so `handoff keygen --alg EdDSA >> .env` works. The PEM goes on one line with `\n` escapes,
// the form JWT_PRIVATE_KEYS reads from an environment variable (src/sessions/signing-keys.ts).

/** The lines to add to .env (or the environment) for a new key of `algorithm`. */
export function newKeySettings (algorithm: JwtAlgorithm, now = new Date()): string[] {
  // 256 random bits, as `openssl rand -base64 32`; base64url keeps it free of characters a shell or .env quotes.
  if (algorithm === 'HS256') return [`JWT_SECRET=${randomBytes(32).toString('base64url')}`]
  const pair = keyPair(generatePrivateKey(algorithm), algorithm)
  return [
    `# ${algorithm} key ${pair.kid}, made ${now.toISOString().slice(0, 10)}. To rotate, put a new key first in JWT_PRIVATE_KEYS and keep this one after it until its tokens expire.`,
    `JWT_ALGORITHM=${algorithm}`,
    `JWT_PRIVATE_KEYS=${pair.privateKeyPem.trim().replaceAll('\n', '\\n')}`
  ]
}

export function keygenCommand (alg = 'HS256'): void {
  const algorithm = JWT_ALGORITHMS.find(name => name.toLowerCase() === alg.toLowerCase())
  if (algorithm === undefined) throw new Error(`--alg must be one of ${JWT_ALGORITHMS.join(', ')}, not "${alg}"`)
  console.log(newKeySettings(algorithm).join('\n'))
}
