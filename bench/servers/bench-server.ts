import type { SeedKind } from '../protocol.js'

/** A server under test, as the child process drives it. */
export interface BenchServer {
  url: string
  cookieNames: { access: string, refresh: string }
  /** Pre-issues `count` values of a kind (tokens, codes, nicknames), one per request. */
  seed(kind: SeedKind, count: number): Promise<string[]>
  close(): Promise<void>
}

// The references' cookie names; handoff's own come from its config (src/sessions/cookies.ts).
export const COOKIE_NAMES = { access: 'handoff_access', refresh: 'handoff_refresh' }

// A fixed secret: the bench never issues a token anyone outside it could use.
export const BENCH_JWT_SECRET = 'bench-secret-that-is-at-least-32-bytes-long'
// Production refuses an http PUBLIC_URL; TLS would end at a load balancer in front of us anyway.
export const BENCH_PUBLIC_URL = 'https://127.0.0.1'

/** How many distinct users sign the `me` tokens and own the sessions and codes. */
export const benchUserCount = (): number => Number(process.env.BENCH_USERS ?? 1000)

export const unsupported = (server: string, kind: SeedKind): never => {
  throw new Error(`the ${server} server cannot seed ${kind}`)
}
