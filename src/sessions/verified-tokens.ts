/**
 * Access tokens already verified by this process, keyed by the token itself: a request that presents
 * one again (every API call of a signed-in page) skips the signature check.
 *
 * Why not fast-jwt's own `cache` option: it keys entries by a SHA-256 of the token, and hashing every
 * token costs more than the HMAC check it saves (docs/performance.md). A Map keyed by the string
 * uses V8's own string hashing instead.
 *
 * An entry lives exactly as long as the token would verify anyway (until its `exp`). A revoked
 * session's token may still be here: the caller checks the revoked sessions on every hit. Only
 * successful verifications are kept; the oldest entry leaves when the cache is full.
 */
export class VerifiedTokens<Value> {
  readonly #entries = new Map<string, { value: Value, expiresAtMs: number }>()

  constructor (readonly capacity: number, private readonly nowMs: () => number = Date.now) {}

  get (token: string): Value | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (entry.expiresAtMs <= this.nowMs()) {
      this.#entries.delete(token)
      return undefined
    }
    return entry.value
  }

  /** `expiresAt`: the token's `exp` claim, in seconds. */
  set (token: string, value: Value, expiresAt: number): void {
    if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(token, { value, expiresAtMs: expiresAt * 1000 })
  }

  get size (): number { return this.#entries.size }
}
