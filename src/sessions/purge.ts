import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from '../db/database.js'

// Expired one-time codes, pending signups, refresh tokens and sessions are deleted in the
// background, in small batches, so no request ever waits behind one long DELETE (the embedded
// database has a single connection).

const BATCH = 500
/** Revoked sessions are kept a day for the sessions list and investigations, then deleted. */
const REVOKED_RETENTION_MS = 24 * 3600 * 1000

const TARGETS: Array<{ table: string, key: string, expired: string }> = [
  { table: 'login_codes', key: 'code_hash', expired: 'expires_at < $1' },
  { table: 'pending_signups', key: 'token_hash', expired: 'expires_at < $1' },
  // A rotated token stays while it could still be presented (reuse detection), i.e. until it expires.
  { table: 'refresh_tokens', key: 'token_hash', expired: 'expires_at < $1' },
  { table: 'sessions', key: 'id', expired: 'expires_at < $1 OR revoked_at < $2' },
  // Kept while an access token of the session could still be unexpired (revocations.ts).
  { table: 'revoked_sessions', key: 'session_id', expired: 'expires_at < $1' }
]

export async function purgeExpired (sql: Sql, now: Date): Promise<Record<string, number>> {
  const removed: Record<string, number> = {}
  const revokedBefore = new Date(now.getTime() - REVOKED_RETENTION_MS)
  for (const { table, key, expired } of TARGETS) {
    removed[table] = 0
    for (;;) {
      const rows = await sql.query(
        `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${expired} LIMIT ${BATCH}) RETURNING 1`,
        expired.includes('$2') ? [now, revokedBefore] : [now])
      removed[table] += rows.length
      if (rows.length < BATCH) break
    }
  }
  return removed
}

async function purge (app: FastifyInstance) {
  const seconds = app.handoff.config.purgeIntervalSeconds
  if (seconds === 0) return
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    purgeExpired(app.handoff.db.sql, app.handoff.clock.now())
      .then(removed => {
        if (Object.values(removed).some(count => count > 0)) app.log.info({ removed }, 'purged expired rows')
      })
      .catch(error => app.log.warn({ err: error }, 'purge failed; will retry'))
      .finally(() => { running = false })
  }, seconds * 1000)
  // The timer must never keep the process alive on its own.
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))
}

export default fp(purge, { name: 'purge', dependencies: ['database'] })
