import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'

// How an instance hears the others' revocations: Redis pub/sub, or PostgreSQL's LISTEN/NOTIFY. Each
// uses a connection of its own (a subscribed connection can do nothing else) and reconnects by
// itself; `onListening` runs after every successful (re)subscription, because messages sent while
// it was away are lost.

/** The PostgreSQL channel (the revoking statement notifies it, revocations.ts). */
export const POSTGRES_CHANNEL = 'handoff_revoked_sessions'

export interface Broadcast {
  /** Tells the other instances (Redis; PostgreSQL notifies in the revoking statement itself). */
  publish(message: string): void
  close(): Promise<void>
}

interface ListenOptions {
  onMessage(message: string): void
  onListening(): void
  log: FastifyBaseLogger
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `<until ms> <id>[,<id>…]`: a notification's payload is limited (8000 bytes in PostgreSQL). */
export const revocationMessage = (sessionIds: string[], untilMs: number): string => `${untilMs} ${sessionIds.join(',')}`

export function parseRevocationMessage (message: string): { sessionIds: string[], untilMs: number } | null {
  const [until, ids, extra] = message.split(' ')
  const untilMs = Number(until)
  const sessionIds = (ids ?? '').split(',')
  if (extra !== undefined || !Number.isSafeInteger(untilMs) || !sessionIds.every(id => UUID.test(id))) return null
  return { sessionIds, untilMs }
}

/** Subscribes on a dedicated Redis connection and publishes on another. Resolves after the first attempt. */
export async function subscribeRedis ({ url, channel, onMessage, onListening, log }: ListenOptions & { url: string, channel: string }): Promise<Broadcast> {
  const { Redis } = await import('ioredis')
  // ioredis would resubscribe after a reconnect on its own, but after emitting 'ready': we subscribe
  // ourselves, so that onListening (reloading the table) runs once the subscription is in place.
  const subscriber = new Redis(url, { lazyConnect: true, connectTimeout: 1000, autoResubscribe: false, maxRetriesPerRequest: null })
  // A revocation is published after it committed; while Redis is away the message waits in the
  // offline queue (a bounded number of retries), the request that revoked does not.
  const publisher = new Redis(url, { lazyConnect: true, connectTimeout: 1000 })
  let subscribed: Promise<void> = Promise.resolve()
  subscriber.on('message', (from: string, message: string) => { if (from === channel) onMessage(message) })
  subscriber.on('ready', () => {
    // A dropped connection comes back with another 'ready'; anything else (an ACL) needs an operator.
    subscribed = subscriber.subscribe(channel).then(() => onListening(), error => {
      log.error({ err: error }, 'revocations: could not subscribe to Redis')
    })
  })
  for (const connection of [subscriber, publisher]) {
    connection.on('error', error => log.warn({ err: error }, 'revocations: Redis unavailable'))
  }
  await Promise.all([subscriber, publisher].map(connection =>
    connection.connect().catch(error => log.warn({ err: error }, 'revocations: Redis unavailable at start; retrying'))))
  await subscribed
  return {
    publish (message) {
      publisher.publish(channel, message).catch(error => log.warn({ err: error }, 'revocations: could not publish to Redis'))
    },
    async close () {
      subscriber.disconnect()
      publisher.disconnect()
    }
  }
}

/** LISTENs on a dedicated PostgreSQL connection, reconnecting (backing off up to 5 s) when it drops. Resolves after the first attempt. */
export async function listenPostgres ({ url, onMessage, onListening, log }: ListenOptions & { url: string }): Promise<Broadcast> {
  let client: pg.Client | undefined
  let closed = false
  let retryTimer: NodeJS.Timeout | undefined
  let attempt = 0

  const retry = () => {
    if (closed || retryTimer !== undefined) return
    retryTimer = setTimeout(() => { retryTimer = undefined; connect().catch(() => {}) }, Math.min(250 * 2 ** attempt++, 5000)) // connect handles its failures
    retryTimer.unref()
  }

  async function connect (): Promise<void> {
    // Keepalive: a connection lost without a FIN (a network partition) is noticed, not listened on forever.
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 })
    next.on('notification', notification => {
      if (notification.channel === POSTGRES_CHANNEL && notification.payload !== undefined) onMessage(notification.payload)
    })
    next.on('error', error => log.warn({ err: error }, 'revocations: PostgreSQL listener connection failed; reconnecting'))
    next.on('end', () => {
      if (client !== next) return
      client = undefined
      retry()
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${POSTGRES_CHANNEL}`)
    } catch (error) {
      next.end().catch(() => {})
      log.warn({ err: error }, 'revocations: could not LISTEN on PostgreSQL; retrying')
      retry()
      return
    }
    if (closed) {
      await next.end().catch(() => {})
      return
    }
    client = next
    attempt = 0
    onListening()
  }

  await connect()
  return {
    publish () {},
    async close () {
      closed = true
      clearTimeout(retryTimer)
      const last = client
      client = undefined
      await last?.end().catch(() => {})
    }
  }
}
