import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import type { Sql } from '../db/database.js'
import { ProviderGrantError } from './grant-request.js'
import type { GrantRevocationOutcome, Provider, ProviderTokens } from './provider.js'
import type { SealedTokens, TokenOwner, TokenVault } from './token-vault.js'

// Telling a provider that we no longer use an identity (Kakao's unlink, Naver's revoke), after the
// account was deleted or the identity unlinked here. The job is written in the deleting transaction,
// so it exists exactly when the deletion committed, with the identity's tokens resealed into it; a
// runner on every instance then calls Provider.revokeGrant in the background: at once after the
// deletion, then on a schedule while the provider fails. The deletion never waits for a provider.

/**
 * Wait after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h, then 6 h; the job is given up after
 * MAX_ATTEMPTS attempts (about 32 h after the deletion), with an error line.
 */
export const RETRY_DELAYS_SECONDS = [60, 300, 1800, 7200, 21_600]
export const MAX_ATTEMPTS = 10
/** How often each instance looks for due jobs besides the kick after each deletion. */
const POLL_INTERVAL_MS = 30_000
const BATCH = 20

export const retryDelaySeconds = (attempts: number): number => RETRY_DELAYS_SECONDS[Math.min(attempts, RETRY_DELAYS_SECONDS.length) - 1]

interface IdentityTokenRow { provider: string, provider_user_id: string, ciphertext: string | null, key_id: string | null }

/** Which removed identities need a job: those whose provider is enabled and can revoke a grant. */
export interface GrantRevocationQueue {
  /**
   * In the deleting transaction, before the identities go: one job per identity of `userId`
   * (only `identityId`, when given) whose provider has revokeGrant. Returns how many.
   */
  queue(tx: Pick<Sql, 'query'>, selection: { userId: string, identityId?: string }): Promise<number>
  /** After the deletion committed: work off the due jobs now rather than at the next poll. */
  kick(): void
}

interface JobRow { id: string, provider: string, provider_user_id: string, tokens_ciphertext: string | null, tokens_key_id: string | null, attempts: number }

/** A pass's jobs: revoked at the provider, nothing to call (no kept token), retried later, given up. */
export interface RunSummary { revoked: number, noToken: number, retried: number, dropped: number }

/** Removes every occurrence of the job's tokens from a provider's error text, for the log and last_error. */
function scrub (text: string, tokens: ProviderTokens | null): string {
  let scrubbed = text
  for (const secret of [tokens?.accessToken, tokens?.refreshToken]) {
    if (secret !== undefined && secret !== '') scrubbed = scrubbed.split(secret).join('[Redacted]')
  }
  return scrubbed.slice(0, 500)
}

export class GrantRevocations implements GrantRevocationQueue {
  #chain: Promise<unknown> = Promise.resolve()
  #queued = false
  #stopped = false

  constructor (private readonly deps: { sql: Sql, vault: TokenVault, clock: Clock, providers: ReadonlyMap<string, Provider>, timeoutMs: number, log: FastifyBaseLogger }) {}

  async queue (tx: Pick<Sql, 'query'>, { userId, identityId }: { userId: string, identityId?: string }): Promise<number> {
    const revocable = [...this.deps.providers.values()].filter(provider => provider.revokeGrant !== undefined).map(provider => provider.id)
    if (revocable.length === 0) return 0
    const rows = await tx.query<IdentityTokenRow>(
      `SELECT i.provider, i.provider_user_id, t.ciphertext, t.key_id FROM identities i LEFT JOIN provider_tokens t ON t.identity_id = i.id
       WHERE i.user_id = $1 AND ($2::uuid IS NULL OR i.id = $2) AND i.provider = ANY($3::text[])`, [userId, identityId ?? null, revocable])
    const now = this.deps.clock.now()
    for (const row of rows) {
      const owner = { provider: row.provider, providerUserId: row.provider_user_id }
      // Resealed with the current key, so the job does not depend on an older key staying configured.
      const tokens = row.ciphertext === null || row.key_id === null ? null : this.#open(owner, { ciphertext: row.ciphertext, keyId: row.key_id })
      const sealed = tokens === null ? null : this.deps.vault.seal(owner, tokens)
      await tx.query(
        `INSERT INTO provider_grant_revocations (provider, provider_user_id, tokens_ciphertext, tokens_key_id, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5)`, [row.provider, row.provider_user_id, sealed?.ciphertext ?? null, sealed?.keyId ?? null, now])
    }
    return rows.length
  }

  kick (): void {
    // One pass queued behind the running one is enough: it picks up every job due by then.
    if (this.#queued || this.#stopped) return
    this.runDue().catch(error => this.deps.log.warn({ err: error }, 'grant revocations: pass failed; will retry'))
  }

  /** Runs one pass over the due jobs after any pass under way; resolves with what it did (tests await it). */
  runDue (): Promise<RunSummary> {
    this.#queued = true
    const pass = this.#chain.then(() => {
      this.#queued = false
      return this.#pass()
    })
    this.#chain = pass.catch(() => {})
    return pass
  }

  /** Resolves once a pass under way is done, so none queries a database being closed. */
  async stop (): Promise<void> {
    this.#stopped = true
    await this.#chain
  }

  #open (owner: TokenOwner, sealed: SealedTokens): ProviderTokens | null {
    try {
      return this.deps.vault.open(owner, sealed)
    } catch (error) {
      this.deps.log.warn({ provider: owner.provider, reason: (error as Error).message }, 'grant revocation: kept tokens do not open; revoking without them')
      return null
    }
  }

  /**
   * Claims the due jobs, as many instances may: the claim pushes each job's next attempt past the
   * time its call can take (a lease: an instance that dies mid-call leaves the job to the next
   * claim), and SKIP LOCKED keeps two instances claiming at once from taking the same job. The
   * provider is called outside any transaction: no connection waits on it.
   */
  async #pass (): Promise<RunSummary> {
    const summary: RunSummary = { revoked: 0, noToken: 0, retried: 0, dropped: 0 }
    const { sql, clock, timeoutMs } = this.deps
    const leaseMs = Math.max(60_000, 2 * timeoutMs)
    while (!this.#stopped) {
      const now = clock.now()
      const jobs = await sql.query<JobRow>(
        `UPDATE provider_grant_revocations SET attempts = attempts + 1, next_attempt_at = $2
         WHERE id IN (SELECT id FROM provider_grant_revocations WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING id, provider, provider_user_id, tokens_ciphertext, tokens_key_id, attempts`, [now, new Date(now.getTime() + leaseMs), BATCH])
      for (const job of jobs) summary[await this.#attempt(job)]++
      if (jobs.length < BATCH) break
    }
    return summary
  }

  async #attempt (job: JobRow): Promise<keyof RunSummary> {
    const { sql, clock, log } = this.deps
    const provider = this.deps.providers.get(job.provider)
    const context = { jobId: job.id, provider: job.provider, attempts: job.attempts }
    if (provider?.revokeGrant === undefined) {
      await sql.query('DELETE FROM provider_grant_revocations WHERE id = $1', [job.id])
      log.warn(context, `grant revocation dropped: provider "${job.provider}" is no longer enabled or cannot revoke grants`)
      return 'dropped'
    }
    const owner = { provider: job.provider, providerUserId: job.provider_user_id }
    const tokens = job.tokens_ciphertext === null || job.tokens_key_id === null ? null : this.#open(owner, { ciphertext: job.tokens_ciphertext, keyId: job.tokens_key_id })
    let outcome: GrantRevocationOutcome
    try {
      outcome = await provider.revokeGrant({ providerUserId: job.provider_user_id, tokens }, { timeoutMs: this.deps.timeoutMs, log: log.child(context) })
    } catch (error) {
      const reason = scrub((error as Error).message ?? String(error), tokens)
      if (job.attempts >= MAX_ATTEMPTS) {
        await sql.query('DELETE FROM provider_grant_revocations WHERE id = $1', [job.id])
        log.error({ ...context, reason }, `grant revocation given up after ${job.attempts} attempts: the provider may still list our app for this person`)
        return 'dropped'
      }
      const delay = retryDelaySeconds(job.attempts)
      await sql.query('UPDATE provider_grant_revocations SET next_attempt_at = $2, last_error = $3 WHERE id = $1',
        [job.id, new Date(clock.now().getTime() + delay * 1000), reason])
      // Our settings refused (a wrong admin key or client secret): an operator must act, so an error;
      // retried all the same, since a fixed setting then succeeds.
      const misconfigured = error instanceof ProviderGrantError && !error.retryable
      log[misconfigured ? 'error' : 'warn']({ ...context, reason, retryInSeconds: delay }, misconfigured ? 'grant revocation refused: fix the setting it names; will retry' : 'grant revocation failed; will retry')
      return 'retried'
    }
    await sql.query('DELETE FROM provider_grant_revocations WHERE id = $1', [job.id])
    if (outcome === 'no_token') {
      log.info(context, 'grant revocation: no token was kept for this identity, so the provider was not called')
      return 'noToken'
    }
    log.info(context, 'grant revoked at the provider')
    return 'revoked'
  }
}

declare module '../namespace.js' {
  interface HandoffNamespace {
    /** The provider grant revocations of deleted accounts and unlinked identities: queue (in the deleting transaction), kick, runDue. */
    grantRevocations: GrantRevocations
  }
}

async function grantRevocations (app: FastifyInstance, { providers }: { providers: readonly Provider[] }) {
  const runner = new GrantRevocations({
    sql: app.handoff.db.sql,
    vault: app.handoff.tokenVault,
    clock: app.handoff.clock,
    providers: new Map(providers.map(provider => [provider.id, provider])),
    timeoutMs: app.handoff.config.providerTimeoutMs,
    log: app.log.child({ component: 'grant-revocations' })
  })
  app.handoff.grantRevocations = runner
  // Jobs left by a previous run (or another instance that stopped) are due now.
  app.addHook('onReady', async () => { runner.kick() })
  const timer = setInterval(() => runner.kick(), POLL_INTERVAL_MS)
  // The timer must never keep the process alive on its own.
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await runner.stop()
  })
}

export default fp(grantRevocations, { name: 'grant-revocations', dependencies: ['database', 'token-vault'] })
