import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A random secret (256 bits, base64url, 43 characters) for codes and refresh tokens. */
export const generateSecret = (): string => randomBytes(32).toString('base64url')

/** What we store instead of a secret: a leaked table yields nothing usable. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('base64url')

/** Compares two strings without leaking, through timing, how much of them matched. */
export function safeEqual (a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest()
  const right = createHash('sha256').update(b).digest()
  return timingSafeEqual(left, right)
}

/** The shape of a generated secret; anything else is rejected before it reaches the database. */
export const SECRET_PATTERN = '^[A-Za-z0-9_-]{43}$'
