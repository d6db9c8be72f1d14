import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from '../db/database.js'
import { deleteEndedSessions, deleteExpiredRefreshTokens, type PurgeBatch } from './store.js'

// Expired one-time codes, pending signups, refresh tokens, sessions and used SDK id_tokens are deleted in the
// background, in small batches, so no request ever waits behind one long DELETE (the embedded
// database has a single connection).

const BATCH = 500
/** Revoked sessions are kept a day for the sessions list and investigations, then deleted. */
const REVOKED_RETENTION_MS = 24 * 3600 * 1000

type DeleteBatch = (sql: Sql, batch: PurgeBatch) => Promise<number>

const deleteExpired = (table: string, key: string): DeleteBatch => async (sql, { now, limit }) =>
  (await sql.query(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at < $1 LIMIT $2) RETURNING 1`, [now, limit])).length

// Sessions and their refresh tokens are deleted by their store (store.ts), which says what may go.
const TARGETS: Array<{ table: string, deleteBatch: DeleteBatch }> = [
  { table: 'login_codes', deleteBatch: deleteExpired('login_codes', 'code_hash') },
  { table: 'pending_signups', deleteBatch: deleteExpired('pending_signups', 'token_hash') },
  { table: 'refresh_tokens', deleteBatch: deleteExpiredRefreshTokens },
  { table: 'sessions', deleteBatch: deleteEndedSessions },
  // Kept while an access token of the session could still be unexpired (revocations.ts).
  { table: 'revoked_sessions', deleteBatch: deleteExpired('revoked_sessions', 'session_id') },
  // Kept while the SDK id_token could still verify (auth/provider-token.ts).
  { table: 'used_id_tokens', deleteBatch: deleteExpired('used_id_tokens', 'token_hash') }
]

export async function purgeExpired (sql: Sql, now: Date): Promise<Record<string, number>> {
  const removed: Record<string, number> = {}
  const batch: PurgeBatch = { now, revokedBefore: new Date(now.getTime() - REVOKED_RETENTION_MS), limit: BATCH }
  for (const { table, deleteBatch } of TARGETS) {
    removed[table] = 0
    for (;;) {
      const count = await deleteBatch(sql, batch)
      removed[table] += count
      if (count < BATCH) break
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
