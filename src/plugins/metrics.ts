import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyRequest, onResponseHookHandler, preSerializationHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { ConfigError, type Config } from '../config.js'
import { DEV_PROVIDER } from '../auth/dev-provider.js'
import { LoginErrorCode, MetricsTokenInvalidError } from '../errors.js'
import type { Provider } from '../providers/provider.js'
import { safeEqual } from '../secrets.js'
import { routeRateLimit } from './rate-limit.js'

declare module '../namespace.js' {
  interface HandoffNamespace {
    /**
     * Only with METRICS_TOKEN or METRICS_PORT. Our own registry, never prom-client's global one: a
     * host app may use that, and two handoff instances in one process must not share counters.
     */
    metrics?: {
      registry: Registry
      /** METRICS_PORT's listener, once the app is ready (the actual port when METRICS_PORT=0). */
      port?: number
    }
  }
}

// Scrapes come every 15 to 60 s; this leaves room for a few Prometheus replicas and still makes
// guessing the token hopeless.
const SCRAPES_PER_MINUTE = 60

const LOGIN_ERRORS = new Set<string>(Object.values(LoginErrorCode))

/** A login's outcome from where the callback sent the browser: only `error`, `linked` or the presence of `code` are read. */
function loginOutcome (location: unknown): string {
  if (typeof location !== 'string') return 'unknown'
  let url: URL
  try { url = new URL(location) } catch { return 'unknown' }
  const params = new URLSearchParams(url.hash.length > 1 ? url.hash.slice(1) : url.search)
  const error = params.get('error')
  if (error !== null) return LOGIN_ERRORS.has(error) ? error : LoginErrorCode.providerError
  if (params.has('linked')) return 'linked'
  return params.has('code') ? 'success' : 'unknown'
}

function createMetrics (registry: Registry, poolStats: (() => { total: number, idle: number, waiting: number }) | undefined) {
  const registers = [registry]
  if (poolStats !== undefined) {
    // eslint-disable-next-line no-new -- registered in `registry`, read on each scrape
    new Gauge({
      name: 'handoff_db_pool_connections',
      help: 'PostgreSQL pool: open connections (total), idle ones, and queries waiting for a connection (waiting)',
      labelNames: ['state'] as const,
      registers,
      collect () {
        const stats = poolStats()
        this.set({ state: 'total' }, stats.total)
        this.set({ state: 'idle' }, stats.idle)
        this.set({ state: 'waiting' }, stats.waiting)
      }
    })
  }
  return {
    logins: new Counter({
      name: 'handoff_logins_total',
      help: 'Provider callbacks, by provider and outcome: success (a one-time code), linked, or the error= code sent to the frontend',
      labelNames: ['provider', 'outcome'] as const,
      registers
    }),
    exchanges: new Counter({
      name: 'handoff_code_exchanges_total',
      help: 'POST /auth/exchange, by outcome: authenticated, signup_required, or the error code answered',
      labelNames: ['outcome'] as const,
      registers
    }),
    signups: new Counter({
      name: 'handoff_signups_total',
      help: 'POST /auth/signup (a first login picking its nickname), by outcome: authenticated, or the error code answered',
      labelNames: ['outcome'] as const,
      registers
    }),
    refreshes: new Counter({
      name: 'handoff_refreshes_total',
      help: 'POST /auth/refresh, by outcome: refreshed, or the error code answered',
      labelNames: ['outcome'] as const,
      registers
    }),
    reuses: new Counter({
      name: 'handoff_refresh_reuse_detected_total',
      help: 'Rotated refresh tokens presented again (refresh_token_reused): each revoked its session',
      registers
    }),
    rateLimited: new Counter({
      name: 'handoff_rate_limited_total',
      help: 'Requests refused with 429 rate_limited, by route pattern',
      labelNames: ['route'] as const,
      registers
    }),
    durations: new Histogram({
      name: 'handoff_http_request_duration_seconds',
      help: 'Time to answer, by method, route pattern (never the raw URL) and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers
    })
  }
}
type Metrics = ReturnType<typeof createMetrics>

/**
 * Outcomes are read from what the routes answer, so the route code stays as it is: the JSON body's
 * `status` (success) or `code` (error), and for the browser steps the `Location` they redirect to.
 * The hooks go on these routes only; every other route pays for the duration histogram alone.
 */
function outcomeHooks (metrics: Metrics, providerIds: ReadonlySet<string>): { readBody: preSerializationHookHandler<unknown>, byRoute: Record<string, onResponseHookHandler> } {
  const answered = new WeakMap<FastifyRequest, string>()
  const provider = (request: FastifyRequest) => {
    const id = (request.params as { provider?: string } | undefined)?.provider ?? DEV_PROVIDER.id
    // The path parameter is the client's: only ids we serve become label values.
    return providerIds.has(id) ? id : 'unknown'
  }
  const outcome = (request: FastifyRequest, statusCode: number) => answered.get(request) ?? String(statusCode)
  const login: onResponseHookHandler = (request, reply, done) => {
    const result = reply.statusCode === 302 ? loginOutcome(reply.getHeader('location')) : outcome(request, reply.statusCode)
    metrics.logins.inc({ provider: provider(request), outcome: result })
    done()
  }
  const readBody: preSerializationHookHandler<unknown> = (request, _reply, payload, done) => {
    const body = payload as { status?: unknown, code?: unknown } | null
    const result = typeof body?.status === 'string' ? body.status : body?.code
    if (typeof result === 'string') answered.set(request, result)
    done(null, payload)
  }
  return {
    readBody,
    byRoute: {
      'GET /auth/:provider/callback': login,
      'POST /auth/dev/callback': login,
      'POST /auth/exchange': (request, reply, done) => {
        metrics.exchanges.inc({ outcome: outcome(request, reply.statusCode) })
        done()
      },
      'POST /auth/signup': (request, reply, done) => {
        metrics.signups.inc({ outcome: outcome(request, reply.statusCode) })
        done()
      },
      'POST /auth/refresh': (request, reply, done) => {
        const result = outcome(request, reply.statusCode)
        metrics.refreshes.inc({ outcome: result })
        if (result === 'refresh_token_reused') metrics.reuses.inc()
        done()
      }
    }
  }
}

const asList = <T>(hooks: T | T[] | undefined): T[] => hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]

/** GET /metrics on a listener of its own (METRICS_PORT), for Prometheus on this machine or network. */
function metricsServer (registry: Registry): Server {
  return createServer((request, response) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n')
      return
    }
    registry.metrics().then(
      text => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics could not be collected\n'))
  })
}

/**
 * Prometheus metrics. Registered only when METRICS_TOKEN or METRICS_PORT is set: with neither, no
 * hook runs and GET /metrics is a 404. The one hook on every request (the duration histogram) costs
 * about 0.6 µs of CPU, about 1 % of GET /auth/me (docs/deployment.md#metrics).
 */
async function metricsPlugin (app: FastifyInstance, { config, providers }: { config: Config, providers: Provider[] }) {
  const settings = config.metrics
  if (settings === undefined) return
  const registry = new Registry()
  const metrics = createMetrics(registry, app.handoff.db.poolStats)
  const namespace: NonNullable<FastifyInstance['handoff']['metrics']> = { registry }
  app.handoff.metrics = namespace

  app.addHook('onResponse', (request, reply, done) => {
    // A 404 has no route: one label value for every unknown URL.
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.durations.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000)
    if (reply.statusCode === 429) metrics.rateLimited.inc({ route })
    done()
  })
  const { readBody, byRoute } = outcomeHooks(metrics, new Set([...providers.map(provider => provider.id), ...(config.devLogin ? [DEV_PROVIDER.id] : [])]))
  app.addHook('onRoute', (route: RouteOptions) => {
    // The table names our routes without the plugin's prefix (`prefix: '/api'`).
    const url = route.url.startsWith(config.prefix) ? route.url.slice(config.prefix.length) : route.url
    const hook = byRoute[`${String(route.method)} ${url}`]
    if (hook === undefined) return
    route.preSerialization = [...asList(route.preSerialization), readBody]
    route.onResponse = [...asList(route.onResponse), hook]
  })

  if (settings.token !== undefined) {
    const token = settings.token
    app.get('/metrics', {
      // An operator's endpoint, not part of the API a frontend uses: documented in docs/deployment.md.
      schema: { hide: true },
      config: { rateLimit: routeRateLimit(config, SCRAPES_PER_MINUTE) }
    }, async (request, reply) => {
      const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1]
      if (presented === undefined || !safeEqual(presented, token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"')
        throw new MetricsTokenInvalidError()
      }
      return reply.type(registry.contentType).send(await registry.metrics())
    })
  }

  if (settings.port !== undefined) {
    const { port, host } = settings
    const server = metricsServer(registry)
    // Opened with the app (a failure stops the start, naming the setting), closed with it.
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', error => reject(new ConfigError(`Invalid setting METRICS_PORT: cannot listen on ${host}:${port} (${error.message})`)))
        server.listen(port, host, resolve)
      })
      namespace.port = (server.address() as AddressInfo).port
      app.log.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${namespace.port}/metrics` }, 'metrics listening')
    })
    app.addHook('onClose', async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    })
  }
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['database', 'rate-limit'] })
