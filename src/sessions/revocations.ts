import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Sql } from '../db/database.js'
import { runAfterHook, type HandoffHooks, type SessionRevokedReason } from '../lifecycle-hooks.js'
import { listenPostgres, parseRevocationMessage, POSTGRES_CHANNEL, revocationMessage, subscribeRedis, type Broadcast } from './revocation-broadcast.js'

// Access tokens are verified without a query, so a revoked session's tokens would otherwise verify
// until they expire. Every instance keeps the revoked session ids in memory, as long as a token of
// theirs could still be unexpired, and refuses them: filled by its own revocations, by the other
// instances' through Redis or PostgreSQL notifications, and from the `revoked_sessions` table: at
// start, after every reconnect of the listener (which may have missed some), and every
// `revocationReload.intervalMs` in case the broadcast stopped arriving without anyone noticing.

/** Tokens may be signed a moment after the revocation they race with, and clocks differ a little. */
const REVOCATION_SKEW_SECONDS = 60
const SWEEP_INTERVAL_MS = 60_000

/**
 * The backstop behind the broadcast: a broadcast can stop arriving with nothing dropping (a LISTEN
 * through a transaction pooler "succeeds" and never delivers; a publish is lost while the revoking
 * instance's Redis is away; a half-open connection), so every instance also reloads the revocations
 * newer than its last load this often: a revoked token is refused everywhere within it at worst.
 * Tests shorten it (read when the plugin starts).
 */
export const revocationReload = { intervalMs: 20_000 }

/**
 * A reload reads from this long before the latest expiry it has seen: revocations are stamped on the
 * revoking instance's clock before their statement commits, so one may land behind a newer one.
 * (Expiries follow revocation times because every instance has the same ACCESS_TOKEN_TTL_SECONDS.)
 */
const RELOAD_OVERLAP_MS = 2 * REVOCATION_SKEW_SECONDS * 1000

/** What a revoking statement needs: when, until when to refuse the tokens, and where to notify. */
export interface RevocationRecord {
  now: Date
  /** The latest `exp` a token of these sessions can carry: revoked_at + access token TTL + skew. */
  until: Date
  /** The PostgreSQL channel to notify in the revoking statement (PostgreSQL without Redis), else null. */
  channel: string | null
}

/** What a revocation ended. */
export interface RevokedSessions {
  userId: string
  sessionIds: string[]
  /** Overrides the revocation's reason when the revoking transaction decided it (a provider's unlink notice that deleted the account). */
  reason?: SessionRevokedReason
}

/** `SessionRevocations.revoke`, bound to a request and a reason. */
export type Revoker = (end: (record: RevocationRecord) => Promise<RevokedSessions | null>) => Promise<RevokedSessions | null>

/**
 * The rest of every revoking statement (store.ts ends the sessions, in a CTE `ended` (id, user_id)):
 * records the sessions in revoked_sessions and, on PostgreSQL without Redis, notifies every
 * instance. One statement, so the record and the notification commit with the revocation (or with
 * the caller's transaction), or not at all. Its parameters are $1 to $4: `revocationValues`.
 */
export const RECORD_REVOCATIONS = `recorded AS (
  INSERT INTO revoked_sessions (session_id, user_id, revoked_at, expires_at)
  SELECT id, user_id, $1, $2 FROM ended ON CONFLICT (session_id) DO NOTHING
)
SELECT id, user_id, CASE WHEN $3::text IS NULL THEN NULL ELSE pg_notify($3, $4 || ' ' || id) END AS notified FROM ended`

/** $1 to $4 of a revoking statement; the ended sessions are revoked at $1 (`record.now`). */
export const revocationValues = (record: RevocationRecord): unknown[] =>
  [record.now, record.until, record.channel, String(record.until.getTime())]

/** Sessions whose access tokens are refused: id → until (ms on the app's clock). */
class RevokedSessionIds {
  readonly #until = new Map<string, number>()

  has (sessionId: string): boolean {
    return this.#until.has(sessionId)
  }

  add (sessionIds: Iterable<string>, untilMs: number): void {
    for (const id of sessionIds) {
      if ((this.#until.get(id) ?? 0) < untilMs) this.#until.set(id, untilMs)
    }
  }

  /** Forgets revocations whose tokens have all expired. */
  sweep (nowMs: number): void {
    for (const [id, until] of this.#until) if (until <= nowMs) this.#until.delete(id)
  }

  get size (): number { return this.#until.size }
}

class SessionRevocations {
  readonly ids = new RevokedSessionIds()
  broadcast: Broadcast | undefined
  /** The latest expiry loaded from the table (ms): the next load starts a little before it. */
  #loadedUntil = 0

  constructor (private readonly sql: Sql, private readonly clock: Clock, private readonly hooks: HandoffHooks,
    private readonly ttlSeconds: number, readonly channel: string | null) {}

  /** True when the session's access tokens must be refused. On every authenticated request: a Map lookup. */
  has (sessionId: string): boolean {
    return this.ids.has(sessionId)
  }

  record (): RevocationRecord {
    const now = this.clock.now()
    return { now, until: new Date(now.getTime() + (this.ttlSeconds + REVOCATION_SKEW_SECONDS) * 1000), channel: this.channel }
  }

  /**
   * Every revocation goes through here: `end` runs the revoking statement with the record; then its
   * sessions are refused on this instance at once and on the others as soon as they hear, the
   * revocation is logged and onSessionRevoked fires.
   */
  async revoke (request: FastifyRequest, reason: SessionRevokedReason, end: (record: RevocationRecord) => Promise<RevokedSessions | null>): Promise<RevokedSessions | null> {
    const record = this.record()
    const ended = await end(record)
    if (ended === null) return null
    const { reason: decided, ...revoked } = ended
    this.ids.add(revoked.sessionIds, record.until.getTime())
    this.broadcast?.publish(revocationMessage(revoked.sessionIds, record.until.getTime()))
    request.log.info({ userId: revoked.userId, sessionIds: revoked.sessionIds, reason: decided ?? reason }, 'sessions revoked')
    await runAfterHook(this.hooks.onSessionRevoked, 'onSessionRevoked', { ...revoked, reason: decided ?? reason, request })
    return revoked
  }

  /** Another instance's revocation. */
  receive (message: string): void {
    const parsed = parseRevocationMessage(message)
    if (parsed !== null) this.ids.add(parsed.sessionIds, parsed.untilMs)
  }

  /** From the table, the revocations whose tokens may still be unexpired: all at first, then those since the last load (an index range). */
  async load (): Promise<void> {
    const since = Math.max(this.clock.now().getTime(), this.#loadedUntil - RELOAD_OVERLAP_MS)
    const rows = await this.sql.query<{ session_id: string, expires_at: Date }>(
      'SELECT session_id, expires_at FROM revoked_sessions WHERE expires_at > $1', [new Date(since)])
    for (const row of rows) {
      this.ids.add([row.session_id], row.expires_at.getTime())
      this.#loadedUntil = Math.max(this.#loadedUntil, row.expires_at.getTime())
    }
  }

  sweep (): void {
    this.ids.sweep(this.clock.now().getTime())
  }
}

declare module '../namespace.js' {
  interface HandoffNamespace {
    sessionRevocations: SessionRevocations
  }
}

/** `postgresUrl`: the PostgreSQL server's, for a connection of its own (LISTEN); absent with the embedded database. */
async function sessionRevocations (app: FastifyInstance, { config, hooks, postgresUrl }: { config: Config, hooks: HandoffHooks, postgresUrl?: string }) {
  // Redis when there is one (it carries the rate limits already); else PostgreSQL's own
  // notifications; the embedded database has one instance, whose memory is enough.
  const transport = config.redisUrl !== undefined ? 'redis' : postgresUrl !== undefined ? 'postgres' : 'memory'
  const revocations = new SessionRevocations(app.handoff.db.sql, app.handoff.clock, hooks, config.accessTokenTtlSeconds, transport === 'postgres' ? POSTGRES_CHANNEL : null)
  const log = app.log.child({ component: 'session-revocations' })
  const reload = reloader(() => revocations.load(), log)
  let started = false
  const listen = {
    onMessage: (message: string) => revocations.receive(message),
    // A listener that (re)connects after the load below may have missed revocations meanwhile.
    onListening: () => { if (started) reload.request() },
    log
  }
  if (transport === 'redis') {
    revocations.broadcast = await subscribeRedis({ ...listen, url: config.redisUrl as string, channel: `${config.redisKeyPrefix}revoked-sessions` })
  } else if (transport === 'postgres') {
    revocations.broadcast = await listenPostgres({ ...listen, url: postgresUrl as string })
  }
  // After the listener's first attempt: a revocation is either in the table by now or heard later.
  started = true
  await revocations.load()
  // Neither timer may keep the process alive on its own.
  const sweep = setInterval(() => revocations.sweep(), SWEEP_INTERVAL_MS)
  sweep.unref()
  const backstop = setInterval(() => reload.request(), revocationReload.intervalMs)
  backstop.unref()
  app.addHook('onClose', async () => {
    clearInterval(sweep)
    clearInterval(backstop)
    await reload.stop()
    await revocations.broadcast?.close()
  })
  app.handoff.sessionRevocations = revocations
}

/** Runs `load` when asked, once at a time, retrying (backing off up to 5 s) while the database fails. */
function reloader (load: () => Promise<void>, log: FastifyBaseLogger) {
  const state: { wanted: boolean, stopped: boolean, running?: Promise<void>, wake?: () => void } = { wanted: false, stopped: false }
  const pause = (ms: number) => new Promise<void>(resolve => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    state.wake = () => { clearTimeout(timer); resolve() }
  })
  const run = async () => {
    let attempt = 0
    while (state.wanted && !state.stopped) {
      state.wanted = false
      try {
        await load()
        attempt = 0
      } catch (error) {
        log.warn({ err: error }, 'revocations: could not reload revoked sessions; retrying')
        state.wanted = true
        await pause(Math.min(250 * 2 ** attempt++, 5000))
      }
    }
    state.running = undefined
  }
  return {
    request () {
      state.wanted = true
      state.running ??= run() // never rejects: failures are caught above
    },
    /** Resolves once a load in flight is done, so none queries a database being closed. */
    async stop () {
      state.stopped = true
      state.wake?.()
      await state.running
    }
  }
}

export default fp(sessionRevocations, { name: 'session-revocations', dependencies: ['database'] })
