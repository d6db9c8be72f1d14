// Nickname rules in one place: pure functions, table-tested in test/users/nicknames.test.ts.

export const NICKNAME_MIN_LENGTH = 2
export const NICKNAME_MAX_LENGTH = 20

// Hangul syllables, ASCII letters, digits, underscore and dot.
const ALLOWED = /^[\uAC00-\uD7A3A-Za-z0-9_.]+$/u
const ALLOWED_CHAR = /[\uAC00-\uD7A3A-Za-z0-9_.]/u
const ONLY_DIGITS = /^[0-9]+$/

/** Names that would let someone pose as the service. Compared on the folded form. */
export const RESERVED_NICKNAMES: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'root', 'system', 'support', 'help', 'staff', 'moderator', 'mod',
  'official', 'operator', 'security', 'handoff', 'null', 'undefined', 'anonymous', 'me',
  '운영자', '관리자', '운영진', '관리인', '시스템', '고객센터', '공식'
])

export type NicknameCheck =
  | { valid: true, nickname: string, key: string }
  | { valid: false, nickname: string, reason: 'invalid' | 'reserved', message: string }

/** NFC-normalizes and trims: the form we store and show. */
export const normalizeNickname = (input: string): string => input.normalize('NFC').trim()

/** The form uniqueness is decided on: normalized, then case-folded. */
export const nicknameKey = (nickname: string): string => normalizeNickname(nickname).toLowerCase()

export function checkNickname (input: string): NicknameCheck {
  const nickname = normalizeNickname(input)
  const length = [...nickname].length
  const invalid = (message: string): NicknameCheck => ({ valid: false, nickname, reason: 'invalid', message })
  if (length < NICKNAME_MIN_LENGTH || length > NICKNAME_MAX_LENGTH) {
    return invalid(`A nickname has ${NICKNAME_MIN_LENGTH} to ${NICKNAME_MAX_LENGTH} characters.`)
  }
  if (!ALLOWED.test(nickname)) return invalid('Use Hangul, Latin letters, digits, "_" and "." only.')
  if (ONLY_DIGITS.test(nickname)) return invalid('A nickname cannot be only digits.')
  const key = nicknameKey(nickname)
  if (RESERVED_NICKNAMES.has(key)) return { valid: false, nickname, reason: 'reserved', message: 'This nickname is reserved.' }
  return { valid: true, nickname, key }
}

/**
 * Turns a provider's name or handle into a valid nickname: disallowed characters become "_",
 * the length is clamped, and `suffix` (for a taken name) is appended within the limit.
 */
export function suggestNickname (source: string | undefined, suffix = ''): string {
  let base = [...normalizeNickname(source ?? '')].map(char => (ALLOWED_CHAR.test(char) ? char : '_')).join('')
  base = base.replace(/_{2,}/g, '_').replace(/^[_.]+|[_.]+$/g, '')
  if (base.length === 0 || ONLY_DIGITS.test(base) || RESERVED_NICKNAMES.has(base.toLowerCase())) base = `user${base}`
  const room = NICKNAME_MAX_LENGTH - suffix.length
  const clamped = [...base].slice(0, room).join('')
  const padded = [...clamped].length < NICKNAME_MIN_LENGTH ? `${clamped}_user` : clamped
  return padded + suffix
}
