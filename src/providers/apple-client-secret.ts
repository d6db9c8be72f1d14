import { createPrivateKey, type KeyObject } from 'node:crypto'

// Sign in with Apple has no static client secret: every token and revoke call carries a JWT we sign
// with the team's .p8 key (ES256), header `kid` = the key id, claims iss = team id, sub = the
// client id, aud = https://appleid.apple.com, exp at most six months after iat
// (developer.apple.com/documentation/signinwithapplerestapi/generate-and-validate-tokens).

/** Apple's fixed audience for client secrets, whatever host the calls go to (APPLE_AUTH_URL). */
export const APPLE_CLIENT_SECRET_AUDIENCE = 'https://appleid.apple.com'
/** Apple's ceiling: 15777000 s, six months. */
export const APPLE_CLIENT_SECRET_MAX_SECONDS = 15_777_000

/**
 * Our secrets live one day and are renewed when less than an hour is left. A day, not six months:
 * a secret that leaks (a proxy's debug log, a heap dump) is a credential for our Services ID until it
 * expires, and signing one costs well under a millisecond once a day. The hour of margin covers a
 * slow token call and a clock a few minutes apart from Apple's.
 */
export const CLIENT_SECRET_LIFETIME_SECONDS = 86_400
export const CLIENT_SECRET_RENEW_BEFORE_SECONDS = 3600

/**
 * The .p8 key as configured: `\n` escapes (one line in an env file) become line breaks. Returns the
 * key, or a problem that names no part of it (the setting's value is a secret).
 */
export function parseApplePrivateKey (text: string): { key: KeyObject } | { problem: string } {
  const pem = text.trim().replace(/\\n/g, '\n')
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) return { problem: 'must be the .p8 file\'s PEM text, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY----- (line breaks as \\n on one line are accepted)' }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    return { problem: 'is not a readable PEM private key (a truncated or altered .p8 file?)' }
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return { problem: `must be an EC P-256 key, the kind Apple issues for Sign in with Apple (this one is ${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve === undefined ? '' : ` ${key.asymmetricKeyDetails.namedCurve}`})` }
  }
  return { key }
}

export interface ClientSecretSettings {
  teamId: string
  keyId: string
  /** The Services ID (web) or a bundle id (native): the client_id the secret goes with. */
  clientId: string
  privateKey: KeyObject
}

export interface ClientSecretSource {
  /** A secret with at least CLIENT_SECRET_RENEW_BEFORE_SECONDS left: the cached one, or a new one. */
  get(): Promise<string>
}

/**
 * Client secrets for one client id, signed on first use and renewed before they expire. Concurrent
 * callers during a renewal share one signature. `now` is for tests.
 */
export function clientSecretSource (settings: ClientSecretSettings, now: () => number = Date.now): ClientSecretSource {
  let current: { secret: Promise<string>, expiresAt: number } | undefined
  return {
    get () {
      const seconds = Math.floor(now() / 1000)
      if (current === undefined || current.expiresAt - seconds < CLIENT_SECRET_RENEW_BEFORE_SECONDS) {
        const expiresAt = seconds + CLIENT_SECRET_LIFETIME_SECONDS
        const secret = signClientSecret(settings, seconds, expiresAt)
        current = { secret, expiresAt }
        // A failed signature is not cached: the next call signs again.
        secret.catch(() => { if (current?.secret === secret) current = undefined })
      }
      return current.secret
    }
  }
}

async function signClientSecret ({ teamId, keyId, clientId, privateKey }: ClientSecretSettings, issuedAt: number, expiresAt: number): Promise<string> {
  const { SignJWT } = await import('jose')
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: keyId })
    .setIssuer(teamId)
    .setSubject(clientId)
    .setAudience(APPLE_CLIENT_SECRET_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(privateKey)
}

export interface ClientSecretSources {
  /** A secret whose `sub` is `clientId` (the Services ID, or an app's bundle id), cached per client id. */
  get(clientId: string): Promise<string>
}

/**
 * Client secrets for any client id of the team: the Services ID for the web login, an app's bundle
 * id for its authorization codes and the tokens they brought (Apple checks `sub` = client_id). The
 * client ids are ours (settings, or sealed with our tokens), so the cache stays small.
 */
export function clientSecretSources (settings: Omit<ClientSecretSettings, 'clientId'>, now?: () => number): ClientSecretSources {
  const sources = new Map<string, ClientSecretSource>()
  return {
    get (clientId) {
      let source = sources.get(clientId)
      if (source === undefined) {
        source = clientSecretSource({ ...settings, clientId }, now)
        sources.set(clientId, source)
      }
      return source.get()
    }
  }
}
