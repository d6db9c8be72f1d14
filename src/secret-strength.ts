// Anyone who guesses an HS256 secret can sign access tokens for any user. Length alone let 48 × "a"
// through, so production also estimates how random a secret looks. Shannon entropy per character
// times the length misses runs ("abcdef…", "0123…") and short blocks repeated, so the steps between
// neighbouring characters are measured too, and the lower of the two estimates counts.

export const MIN_SECRET_BITS = 128
export const MIN_SECRET_DISTINCT_CHARACTERS = 10

/** Average information per symbol, in bits, from the symbols' frequencies. */
function shannonBitsPerSymbol (symbols: ReadonlyArray<string | number>): number {
  const counts = new Map<string | number, number>()
  for (const symbol of symbols) counts.set(symbol, (counts.get(symbol) ?? 0) + 1)
  let bits = 0
  for (const count of counts.values()) {
    const p = count / symbols.length
    bits -= p * Math.log2(p)
  }
  return bits
}

/** An estimate of a secret's entropy in bits; an upper bound for text a person chose. */
export function estimateSecretBits (secret: string): number {
  const characters = [...secret]
  const codes = characters.map(character => character.codePointAt(0) as number)
  const steps = codes.slice(1).map((code, i) => code - codes[i])
  return characters.length * Math.min(shannonBitsPerSymbol(characters), shannonBitsPerSymbol(steps))
}

/** A random 32-byte secret in base64url (about 180 bits or more here) or hex (about 215) passes easily. */
export function isGuessableSecret (secret: string): boolean {
  return new Set(secret).size < MIN_SECRET_DISTINCT_CHARACTERS || estimateSecretBits(secret) < MIN_SECRET_BITS
}
