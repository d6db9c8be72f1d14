import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { perMinute } from '../plugins/rate-limit.js'
import { ErrorRef } from '../schemas/common.js'
import { nicknameAvailability } from './availability.js'
import { AvailabilityQuerySchema, AvailabilitySchema, UserDescriptions } from './schemas.js'

/** GET /auth/nickname/availability: public, rate-limited per client address. */
export const availabilityRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.get('/nickname/availability', {
    schema: {
      operationId: 'checkNicknameAvailability',
      tags: ['signup'],
      summary: 'Check a nickname before signing up or renaming',
      description: UserDescriptions.availability,
      querystring: AvailabilityQuerySchema,
      response: { 200: AvailabilitySchema, 400: ErrorRef, 429: ErrorRef }
    },
    config: { rateLimit: perMinute(config, config.rateLimits.nicknamePerMinute) }
  }, async request => nicknameAvailability(app.handoff.db.sql, request.query.nickname))
}
