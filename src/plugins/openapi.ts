import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

/**
 * The OpenAPI document at /docs/json and Swagger UI at /docs (under the plugin's prefix), built from
 * the routes' own schemas: handoff's, and a host app's, tagged or not.
 */
async function openapi (app: FastifyInstance, { config, accessCookieName }: { config: Config, accessCookieName: string }) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'handoff',
        version: '0.1.0',
        description: 'Social login for single-page apps: the provider redirects to the frontend with a one-time code (never a token), which the frontend exchanges for HttpOnly cookies. Errors answer `{ statusCode, code, error, message }`; `code` is stable.'
      },
      servers: [{ url: config.publicUrl }],
      tags: [
        { name: 'login', description: 'Browser steps: start a login, provider callback' },
        { name: 'session', description: 'Exchange the code, refresh, sign out, who am I' },
        { name: 'signup', description: 'First login: pick a nickname' },
        { name: 'account', description: 'The signed-in user\'s own account' },
        { name: 'health', description: 'Readiness' },
        { name: 'keys', description: 'Public keys, for services that verify our access cookie themselves' }
      ],
      components: {
        securitySchemes: {
          accessCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: accessCookieName,
            description: 'The HttpOnly access JWT set by POST /auth/exchange. In Swagger UI on this server the browser sends it by itself once you have signed in.'
          }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })
  await app.register(fastifySwaggerUi, { routePrefix: `${config.prefix}/docs`, uiConfig: { withCredentials: true } })
}

export default fp(openapi, { name: 'openapi' })
