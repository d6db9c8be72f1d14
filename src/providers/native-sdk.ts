import { createHash } from 'node:crypto'
import { NativeTokenInvalidError } from '../errors.js'

// What every provider's check of a native SDK's token shares (POST /auth/:provider/token).

/**
 * The values an SDK id_token's `nonce` claim may hold for the raw nonce the app sends us: the raw
 * value, or its SHA-256 in lower-case hex. Sign in with Apple's native flow takes the hash (and Firebase
 * and Supabase hand every SDK the hash), so the raw nonce never appears in the token: a token caught
 * on its way is useless without the raw value.
 */
export const nonceForms = (nonce: string): string[] => [nonce, createHash('sha256').update(nonce).digest('hex')]

/** A provider's user id from an SDK token: a non-empty string of at most 255 characters, or refused. */
export function sdkUserId (displayName: string, value: unknown, pattern = /^[\x21-\x7e]{1,255}$/): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new NativeTokenInvalidError(`${displayName} token names no valid user id`)
  return value
}
