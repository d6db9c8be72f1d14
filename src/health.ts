import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])
}, { additionalProperties: false })

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    schema: {
      operationId: 'checkHealth',
      tags: ['health'],
      summary: 'Ready when the server and its database answer',
      response: { 200: HealthSchema, 503: HealthSchema }
    }
  }, async (request, reply) => {
    try {
      await app.handoff.db.sql.query('SELECT 1')
      return { status: 'ok' as const, database: 'ok' as const }
    } catch (error) {
      request.log.warn({ err: error }, 'health check: database unavailable')
      return reply.code(503).send({ status: 'unavailable' as const, database: 'unavailable' as const })
    }
  })
}
