import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { FrameworkErrorCode } from '../errors.js'
import { withWording } from '../messages/index.js'

/**
 * A route's limit, for `config.rateLimit`: `max` requests per client address in each window of
 * RATE_LIMIT_WINDOW_SECONDS (a minute by default), or none when RATE_LIMIT_ENABLED=false. Over the
 * limit: 429 `rate_limited`.
 */
export const routeRateLimit = (config: Pick<Config, 'rateLimits'>, max: number) =>
  config.rateLimits.enabled ? { max, timeWindow: config.rateLimits.windowSeconds * 1000 } : false

/** Limits are opt-in per route. With REDIS_URL they are counted in Redis, so they hold across instances. */
async function rateLimit (app: FastifyInstance, { config }: { config: Config }) {
  let redis: Redis | undefined
  if (config.redisUrl !== undefined) {
    // Fail fast rather than queue: a request must not wait on a Redis outage (skipOnError lets it through).
    const { Redis } = await import('ioredis') // only a server with REDIS_URL loads the client
    redis = new Redis(config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true })
    redis.on('error', error => app.log.warn({ err: error }, 'rate limit store unavailable'))
    await redis.connect().catch(error => app.log.warn({ err: error }, 'rate limit store unavailable at start'))
    app.addHook('onClose', async () => { redis?.disconnect() })
  }
  await app.register(fastifyRateLimit, {
    global: false,
    ...(redis === undefined ? {} : { redis, nameSpace: `${config.redisKeyPrefix}rate-limit:`, skipOnError: true }),
    // Thrown to the error handler, which words it in the client's language.
    errorResponseBuilder: (_request, context) => Object.assign(
      withWording(new Error(), 'rate_limited_retry', { seconds: Math.ceil(context.ttl / 1000) }),
      { statusCode: 429, code: FrameworkErrorCode.rateLimited }
    )
  })
}

export default fp(rateLimit, { name: 'rate-limit' })
