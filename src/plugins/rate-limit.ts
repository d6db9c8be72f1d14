import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Limits are opt-in per route (`config.rateLimit`); over the limit: 429 `rate_limited`. */
async function rateLimit (app: FastifyInstance) {
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'rate_limited',
      error: 'Too Many Requests',
      message: `Too many requests; retry in ${context.after}`
    })
  })
}

export default fp(rateLimit, { name: 'rate-limit' })
