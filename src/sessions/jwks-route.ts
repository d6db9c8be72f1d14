import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { jwksDescription } from './schemas.js'

const JwkSchema = Type.Object({
  kty: Type.String({ examples: ['EC'] }),
  crv: Type.String({ examples: ['P-256'] }),
  x: Type.String(),
  y: Type.Optional(Type.String({ description: 'EC keys only' })),
  kid: Type.String({ description: 'Matches the `kid` header of the access JWTs it verifies' }),
  alg: Type.String({ examples: ['ES256'] }),
  use: Type.Literal('sig')
}, { additionalProperties: false })

const JwksSchema = Type.Object({ keys: Type.Array(JwkSchema) }, { additionalProperties: false })

/** Long enough to spare us a fetch per verification, short enough for a new key to spread during a rotation. */
const JWKS_MAX_AGE_SECONDS = 300

export const jwksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const body = { keys: app.handoff.accessTokens.publicKeys }
  app.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'getJwks',
      tags: ['keys'],
      summary: 'The public keys that verify our access JWTs',
      description: jwksDescription(JWKS_MAX_AGE_SECONDS),
      response: { 200: JwksSchema }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return body
  })
}
