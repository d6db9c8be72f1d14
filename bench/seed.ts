import { randomBytes } from 'node:crypto'
import { generateSecret, hashSecret } from '../src/secrets.js'

// Pre-issues, in bulk, what the scenarios spend: one refresh token or login code per request, and
// many distinct users. The rows are the ones the app's own code writes (same columns, same hashes);
// bulk statements only so that seeding 30,000 tokens takes a second, not a minute.

export interface SeedSql { query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]> }

export interface BenchUser { id: string, nickname: string }

const CHUNK = 5000
const HOUR_MS = 3_600_000

/** Inserts `count` users whose nicknames start with a prefix unique to this process. */
export async function createUsers (sql: SeedSql, count: number): Promise<BenchUser[]> {
  const prefix = `b${randomBytes(3).toString('hex')}_`
  return sql.query<BenchUser>(
    `INSERT INTO users (nickname, nickname_key)
     SELECT $1 || g, $1 || g FROM generate_series(1, $2::int) g
     RETURNING id, nickname`,
    [prefix, count]
  )
}

const chunks = (count: number) => Array.from({ length: Math.ceil(count / CHUNK) }, (_, i) => Math.min(CHUNK, count - i * CHUNK))
const pick = <T>(items: T[], count: number) => Array.from({ length: count }, (_, i) => items[i % items.length])

/** One live session per refresh token, as after a login; returns the tokens. */
export async function issueRefreshTokens (sql: SeedSql, users: BenchUser[], count: number): Promise<string[]> {
  const tokens: string[] = []
  const expiresAt = new Date(Date.now() + HOUR_MS)
  for (const size of chunks(count)) {
    const batch = Array.from({ length: size }, generateSecret)
    await sql.query(
      `WITH s AS (
         INSERT INTO sessions (user_id, expires_at) SELECT u, $3 FROM unnest($1::uuid[]) u RETURNING id
       ), numbered AS (SELECT id, row_number() OVER () AS n FROM s)
       INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
       SELECT t.hash, numbered.id, $3 FROM unnest($2::text[]) WITH ORDINALITY t(hash, n) JOIN numbered USING (n)`,
      [pick(users, size).map(user => user.id), batch.map(hashSecret), expiresAt]
    )
    tokens.push(...batch)
  }
  return tokens
}

/** Unused one-time codes for existing users, valid for an hour (a run outlasts the 60 s default). */
export async function issueLoginCodes (sql: SeedSql, users: BenchUser[], count: number): Promise<string[]> {
  const codes: string[] = []
  const expiresAt = new Date(Date.now() + HOUR_MS)
  for (const size of chunks(count)) {
    const batch = Array.from({ length: size }, generateSecret)
    await sql.query(
      `INSERT INTO login_codes (code_hash, user_id, expires_at)
       SELECT h, u, $3 FROM unnest($1::text[], $2::uuid[]) t(h, u)`,
      [batch.map(hashSecret), pick(users, size).map(user => user.id), expiresAt]
    )
    codes.push(...batch)
  }
  return codes
}

/** Nicknames to ask about: every other one taken, the rest free, none repeated in a row. */
export function nicknameQueries (users: BenchUser[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => i % 2 === 0 ? users[(i / 2) % users.length].nickname : `free_${i}`)
}
