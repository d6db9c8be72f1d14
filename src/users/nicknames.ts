// Nickname rules in one place: pure functions, table-tested in test/users/nicknames.test.ts.

import type { Wording } from '../messages/index.js'
import { foldLetterPairs, prototypeOf } from './confusables.js'

const NICKNAME_MIN_LENGTH = 2
const NICKNAME_MAX_LENGTH = 20

// Hangul syllables, ASCII letters, digits, underscore and dot.
const ALLOWED = /^[\uAC00-\uD7A3A-Za-z0-9_.]+$/u
const ALLOWED_CHAR = /[\uAC00-\uD7A3A-Za-z0-9_.]/u
const ONLY_DIGITS = /^[0-9]+$/

/** Names that would let someone pose as the service. Compared by skeleton (see nicknameSkeleton). */
export const RESERVED_NICKNAMES: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'root', 'system', 'support', 'help', 'staff', 'moderator', 'mod',
  'official', 'operator', 'security', 'handoff', 'null', 'undefined', 'anonymous', 'me',
  '운영자', '관리자', '운영진', '관리인', '시스템', '고객센터', '공식'
])

// Dropped from the skeleton: spaces, punctuation (`_`, `.`, `-` and their look-alikes), controls,
// and invisible characters (zero-width spaces and joiners, soft hyphens, Hangul fillers, variation
// selectors), so that `_admin`, `ad.min` or `관\u200D리자` cannot pass for something else.
const SEPARATORS = /[\p{White_Space}\p{P}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu
const MARKS = /\p{M}/gu

/**
 * What a nickname looks like, for the reserved-name check only (uniqueness stays on nicknameKey):
 * compatibility forms folded (NFKC: fullwidth ＡＤＭＩＮ, mathematical 𝐚𝐝𝐦𝐢𝐧), accents and other
 * marks dropped, separators and invisibles dropped, Hangul recomposed, then each character mapped
 * to its confusables.txt prototype and lower-cased (Cyrillic А, digit 0, 1 for l), and `m` drawn as
 * `rn`. This is UTS #39's skeleton idea, made case-insensitive and blind to separators.
 */
export function nicknameSkeleton (input: string): string {
  const bare = input.normalize('NFKD').replace(MARKS, '').replace(SEPARATORS, '').normalize('NFC')
  return foldLetterPairs([...bare].map(prototypeOf).join(''))
}

const RESERVED_SKELETONS: ReadonlySet<string> = new Set([...RESERVED_NICKNAMES].map(nicknameSkeleton))

/** Whether a nickname is, or looks like, a reserved one. Exact skeleton match: `adminkim` is fine. */
export const isReservedNickname = (input: string): boolean => RESERVED_SKELETONS.has(nicknameSkeleton(input))

/** A nickname judged: valid with its uniqueness key, reserved, or invalid (`wording`: the catalog sentence naming the rule). */
export type CheckedNickname =
  | { valid: true, nickname: string, key: string }
  | { valid: false, nickname: string, reason: 'reserved' }
  | { valid: false, nickname: string, reason: 'invalid', wording: Wording }

/** NFC-normalizes and trims: the form we store and show. */
export const normalizeNickname = (input: string): string => input.normalize('NFC').trim()

/** The form uniqueness is decided on: normalized, then case-folded. */
export const nicknameKey = (nickname: string): string => normalizeNickname(nickname).toLowerCase()

export function checkNickname (input: string): CheckedNickname {
  const nickname = normalizeNickname(input)
  const length = [...nickname].length
  const invalid = (wording: Wording): CheckedNickname => ({ valid: false, nickname, reason: 'invalid', wording })
  // Before the other rules: a look-alike such as `Аdmin` (Cyrillic А) is also outside the allowed
  // characters, but the answer must say "reserved" so nobody retries with a subtler variant.
  if (isReservedNickname(nickname)) return { valid: false, nickname, reason: 'reserved' }
  if (length < NICKNAME_MIN_LENGTH || length > NICKNAME_MAX_LENGTH) {
    return invalid({ key: 'nickname_length', params: { min: NICKNAME_MIN_LENGTH, max: NICKNAME_MAX_LENGTH } })
  }
  if (!ALLOWED.test(nickname)) return invalid({ key: 'nickname_characters' })
  if (ONLY_DIGITS.test(nickname)) return invalid({ key: 'nickname_only_digits' })
  return { valid: true, nickname, key: nicknameKey(nickname) }
}

/**
 * Turns a provider's name or handle into a valid nickname: disallowed characters become "_",
 * the length is clamped, and `suffix` (for a taken name) is appended within the limit.
 */
export function suggestNickname (source: string | undefined, suffix = ''): string {
  let base = [...normalizeNickname(source ?? '')].map(char => (ALLOWED_CHAR.test(char) ? char : '_')).join('')
  base = base.replace(/_{2,}/g, '_').replace(/^[_.]+|[_.]+$/g, '')
  if (base.length === 0 || ONLY_DIGITS.test(base) || isReservedNickname(base)) base = `user${base}`
  const fit = (text: string): string => {
    const clamped = [...text].slice(0, NICKNAME_MAX_LENGTH - suffix.length).join('')
    return ([...clamped].length < NICKNAME_MIN_LENGTH ? `${clamped}_user` : clamped) + suffix
  }
  // Judged after clamping: cutting a long name can leave exactly a reserved one.
  const suggestion = fit(base)
  return isReservedNickname(suggestion) ? fit(`user${base}`) : suggestion
}
