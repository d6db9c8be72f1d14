import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorRef } from '../schemas/common.js'
import { nicknameAvailability } from './availability.js'
import { AvailabilityQuerySchema, AvailabilitySchema } from './schemas.js'

/** GET /auth/nickname/availability: public, rate-limited per client address. */
export const availabilityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/nickname/availability', {
    schema: {
      tags: ['signup'],
      summary: 'Check a nickname before signing up or renaming',
      description: 'Advisory: the answer can change before you submit (the database decides at signup). Rate-limited: 60 checks a minute per client address, then 429 `rate_limited`.',
      querystring: AvailabilityQuerySchema,
      response: { 200: AvailabilitySchema, 400: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: { max: 60, timeWindow: '1 minute' } }
  }, async request => nicknameAvailability(app.db.sql, request.query.nickname))
}
