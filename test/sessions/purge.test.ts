import t from 'tap'
import { purgeExpired } from '../../src/sessions/purge.js'
import { buildTestApp } from '../helpers/build-app.js'

t.test('expired codes, signups, tokens and old sessions are purged; live rows stay', async t => {
  const { app, clock } = await buildTestApp(t, { PURGE_INTERVAL_SECONDS: '0' })
  const { sql } = app.handoff.db
  const now = clock.now()
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000)
  const [user] = await sql.query<{ id: string }>("INSERT INTO users (nickname, nickname_key) VALUES ('keeper', 'keeper') RETURNING id")
  for (let i = 0; i < 1200; i++) await sql.query('INSERT INTO login_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)', [`expired-${i}`, user.id, at(-60)])
  await sql.query('INSERT INTO login_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)', ['live', user.id, at(60)])
  await sql.query('INSERT INTO pending_signups (token_hash, profile, expires_at) VALUES ($1, $2, $3), ($4, $2, $5)', ['old', '{}', at(-1), 'fresh', at(600)])
  const [live, expired, revokedLongAgo, revokedJustNow] = await Promise.all([at(3600), at(-1), at(3600), at(3600)].map(async expiresAt =>
    (await sql.query<{ id: string }>('INSERT INTO sessions (user_id, expires_at) VALUES ($1, $2) RETURNING id', [user.id, expiresAt]))[0].id))
  await sql.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1', [revokedLongAgo, at(-2 * 24 * 3600)])
  await sql.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1', [revokedJustNow, at(-60)])
  await sql.query('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, rotated_at) VALUES ($1, $2, $3, $4), ($5, $2, $6, NULL)',
    ['rotated-still-valid', live, at(3600), at(-30), 'expired-token', at(-1)])
  await sql.query('INSERT INTO revoked_sessions (session_id, user_id, revoked_at, expires_at) VALUES ($1, $3, $4, $5), ($2, $3, $4, $6)',
    [revokedLongAgo, revokedJustNow, user.id, at(-60), at(-1), at(900)])
  await sql.query('INSERT INTO used_id_tokens (token_hash, expires_at) VALUES ($1, $2), ($3, $4)', ['token-recent', at(3600), 'token-old', at(-1)])
  // Kept tokens live as long as their identity, and a grant revocation until it is done or given
  // up, however old: the purge has no business with either.
  const [identity] = await sql.query<{ id: string }>("INSERT INTO identities (user_id, provider, provider_user_id, created_at) VALUES ($1, 'naver', 'n1', $2) RETURNING id", [user.id, at(-400 * 24 * 3600)])
  await sql.query("INSERT INTO provider_tokens (identity_id, ciphertext, key_id, updated_at) VALUES ($1, 'sealed', 'k', $2)", [identity.id, at(-400 * 24 * 3600)])
  const [job] = await sql.query<{ id: string }>("INSERT INTO provider_grant_revocations (provider, provider_user_id, attempts, next_attempt_at, created_at) VALUES ('naver', 'n0', 3, $1, $2) RETURNING id", [at(-3 * 24 * 3600), at(-4 * 24 * 3600)])

  // Every row by name, with its fate: each is there before the purge, and after it exactly the
  // ones marked kept are.
  const rows: Array<{ table: string, key: string, value: string, kept: boolean, why: string }> = [
    { table: 'login_codes', key: 'code_hash', value: 'live', kept: true, why: 'a code still valid' },
    { table: 'login_codes', key: 'code_hash', value: 'expired-0', kept: false, why: 'an expired code, first batch' },
    { table: 'login_codes', key: 'code_hash', value: 'expired-1199', kept: false, why: 'an expired code, last batch' },
    { table: 'pending_signups', key: 'token_hash', value: 'fresh', kept: true, why: 'a signup still valid' },
    { table: 'pending_signups', key: 'token_hash', value: 'old', kept: false, why: 'an expired signup' },
    { table: 'sessions', key: 'id', value: live, kept: true, why: 'a live session' },
    { table: 'sessions', key: 'id', value: expired, kept: false, why: 'an expired session' },
    { table: 'sessions', key: 'id', value: revokedLongAgo, kept: false, why: 'a session revoked two days ago' },
    { table: 'sessions', key: 'id', value: revokedJustNow, kept: true, why: 'revoked sessions are kept a day' },
    { table: 'refresh_tokens', key: 'token_hash', value: 'rotated-still-valid', kept: true, why: 'a rotated token is kept while it could be replayed (reuse detection)' },
    { table: 'refresh_tokens', key: 'token_hash', value: 'expired-token', kept: false, why: 'an expired token' },
    { table: 'revoked_sessions', key: 'session_id', value: revokedJustNow, kept: true, why: 'a revocation is kept while its access tokens could be unexpired' },
    { table: 'revoked_sessions', key: 'session_id', value: revokedLongAgo, kept: false, why: 'a revocation whose access tokens have all expired' },
    { table: 'used_id_tokens', key: 'token_hash', value: 'token-recent', kept: true, why: 'a used SDK id_token is kept while it could still verify' },
    { table: 'used_id_tokens', key: 'token_hash', value: 'token-old', kept: false, why: 'a used SDK id_token past its retention' },
    { table: 'provider_tokens', key: 'identity_id', value: identity.id, kept: true, why: 'an identity\'s tokens, however old' },
    { table: 'provider_grant_revocations', key: 'id', value: job.id, kept: true, why: 'a grant revocation still to do, however overdue' }
  ]
  const present = async ({ table, key, value }: { table: string, key: string, value: string }) =>
    (await sql.query(`SELECT 1 FROM ${table} WHERE ${key} = $1`, [value])).length === 1
  for (const row of rows) t.ok(await present(row), `before: ${row.table} has ${row.why}`)

  const removed = await purgeExpired(sql, now)
  t.same(removed, { login_codes: 1200, pending_signups: 1, refresh_tokens: 1, sessions: 2, revoked_sessions: 1, used_id_tokens: 1 })
  for (const row of rows) t.equal(await present(row), row.kept, `after: ${row.why}: ${row.kept ? 'kept' : 'purged'}`)
  const left = async (table: string, key: string) => (await sql.query<Record<string, string>>(`SELECT ${key} FROM ${table} ORDER BY 1`)).map(row => row[key])
  t.same(await left('login_codes', 'code_hash'), ['live'], 'no other row is left')
  t.same(await left('pending_signups', 'token_hash'), ['fresh'])
  t.same((await left('sessions', 'id')).sort(), [live, revokedJustNow].sort())
  t.same(await left('refresh_tokens', 'token_hash'), ['rotated-still-valid'])
  t.same(await left('revoked_sessions', 'session_id'), [revokedJustNow])
})

t.test('the purge runs on its interval in the background', async t => {
  const { app, clock } = await buildTestApp(t, { PURGE_INTERVAL_SECONDS: '1' })
  await app.handoff.db.sql.query('INSERT INTO pending_signups (token_hash, profile, expires_at) VALUES ($1, $2, $3)', ['old', '{}', new Date(clock.now().getTime() - 1000)])
  for (let waited = 0; waited < 3000; waited += 100) {
    if ((await app.handoff.db.sql.query('SELECT 1 FROM pending_signups')).length === 0) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.same(await app.handoff.db.sql.query('SELECT 1 FROM pending_signups'), [], 'removed without any request')
})
