// The `user` field of Apple's first form_post (developer.apple.com/documentation/signinwithapplerestapi/
// request-an-authorization-to-the-sign-in-with-apple-server.): a JSON string
// `{"name":{"firstName":"…","lastName":"…"},"email":"…"}`, sent on the first authorization only, and
// unsigned: anyone can post any. So only the name is read (the email comes from the signed id_token),
// only strings, each cleaned and cut short.

/** Longer than any real given or family name; keeps a posted megabyte out of our rows. */
const NAME_PART_MAX = 64
/** The form field itself; Apple's is about a hundred characters. */
export const APPLE_USER_FIELD_MAX = 2048

export interface AppleUserName {
  firstName?: string
  lastName?: string
  /** As a profile shows it: "Gildong Hong", or 홍길동 for two Hangul or CJK parts (family name first, no space). */
  name?: string
  /** The nickname to suggest: the first name, or the whole name in Hangul or CJK (길동 alone reads oddly). */
  nickname?: string
}

// Control, format (bidi overrides, zero-width) and separator characters other than a plain space:
// nothing a name needs, and what makes a name display as something else.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g
const EAST_ASIAN = /^[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+$/u

function cleanPart (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.normalize('NFC').replace(UNPRINTABLE, '').replace(/\s+/g, ' ').trim()
  if (text === '') return undefined
  // By code points, so a cut never splits a surrogate pair.
  return [...text].slice(0, NAME_PART_MAX).join('').trim()
}

/** The name in Apple's `user` form field, or nothing when the field is absent or is not Apple's shape. */
export function parseAppleUser (field: unknown): AppleUserName {
  if (typeof field !== 'string' || field.length > APPLE_USER_FIELD_MAX) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(field)
  } catch {
    return {}
  }
  const name = (parsed as { name?: unknown } | null)?.name
  if (typeof name !== 'object' || name === null) return {}
  const firstName = cleanPart((name as { firstName?: unknown }).firstName)
  const lastName = cleanPart((name as { lastName?: unknown }).lastName)
  if (firstName === undefined || lastName === undefined) return { firstName, lastName, name: firstName ?? lastName, nickname: firstName ?? lastName }
  if (EAST_ASIAN.test(firstName) && EAST_ASIAN.test(lastName)) return { firstName, lastName, name: `${lastName}${firstName}`, nickname: `${lastName}${firstName}` }
  return { firstName, lastName, name: `${firstName} ${lastName}`, nickname: firstName }
}
