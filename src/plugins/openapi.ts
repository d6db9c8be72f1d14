import fastifySwagger, { type SwaggerTransform } from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { packageVersion } from '../cli/version.js'
import type { Config } from '../config.js'

/** The header the CSRF check of plugins/security.ts wants on every `config.csrf` route; any value passes. */
const CSRF_HEADER = 'X-Requested-With'

/**
 * A route marked `config.csrf` declares the CSRF header beside the cookies it already names, so the
 * document cannot forget it on a new state-changing route (test/openapi.test.ts checks them all).
 */
const declareCsrfHeader: SwaggerTransform = ({ schema, url, route }) => {
  if (route.config?.csrf !== true || schema === undefined) return { schema, url }
  const requirements = schema.security === undefined || schema.security.length === 0 ? [{}] : schema.security
  // A native app's bearer token alone carries no ambient authority: that alternative needs no header (plugins/security.ts).
  return { schema: { ...schema, security: requirements.map(requirement => 'bearerToken' in requirement ? requirement : { ...requirement, csrfHeader: [] }) }, url }
}

// Swagger UI's own instance, in scope where @fastify/swagger-ui pastes the uiConfig functions (its
// swagger-initializer.js); those functions run in the browser only.
declare const ui: { preauthorizeApiKey (scheme: string, value: string): void }

/** The names of the cookies the document declares as security schemes (app.ts passes them: infrastructure knows no sessions). */
export interface DocumentedCookies { access: string, refresh: string, signup: string }

/**
 * The OpenAPI document at /docs/json and Swagger UI at /docs (under the plugin's prefix; unless
 * DOCS_ENABLED=false), built from the routes' own schemas: handoff's, and a host app's, tagged or not.
 */
/** `routePrefix`: handoff's own `prefix` option; a host plugin's prefix around handoff applies by itself (this plugin is not encapsulated). */
async function openapi (app: FastifyInstance, { config, cookies, routePrefix }: { config: Config, cookies: DocumentedCookies, routePrefix: string }) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'handoff',
        version: packageVersion(),
        description: 'Social login for single-page apps: the provider redirects to the frontend with a one-time code (never a token), which the frontend exchanges for HttpOnly cookies. Native apps log in through the system browser (RFC 8252: `redirect_uri`, PKCE) or with a provider SDK\'s token, and hold their tokens themselves (`Authorization: Bearer`; docs/mobile.md). Errors answer `{ statusCode, code, error, message }`; `code` is stable. ' +
          `Operations secured by \`csrfHeader\` (every POST, PATCH and DELETE a frontend calls) need the \`${CSRF_HEADER}\` header; Swagger UI on this server fills it in, and the browser sends the cookies.`
      },
      servers: [{ url: config.publicUrl }],
      tags: [
        { name: 'login', description: 'Browser steps: start a login, provider callback; a native app\'s provider SDK token' },
        { name: 'session', description: 'Exchange the code, refresh, sign out, who am I' },
        { name: 'signup', description: 'First login: pick a nickname' },
        { name: 'account', description: 'The signed-in user\'s own account' },
        { name: 'messages', description: 'Sentences for the error codes, in English and Korean' },
        { name: 'health', description: 'Readiness' },
        { name: 'keys', description: 'Public keys, for services that verify our access cookie themselves' },
        { name: 'webhooks', description: 'Calls from the providers\' servers (Kakao\'s and Naver\'s unlink webhooks, Apple\'s notifications), not from a browser' }
      ],
      components: {
        securitySchemes: {
          accessCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: cookies.access,
            description: 'The HttpOnly access JWT set by POST /auth/exchange. In Swagger UI on this server the browser sends it by itself once you have signed in.'
          },
          refreshCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: cookies.refresh,
            description: 'The HttpOnly refresh token set beside the access cookie; over plain http it travels to /auth paths only. The browser sends it by itself.'
          },
          signupCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: cookies.signup,
            description: 'The HttpOnly first-login cookie set by POST /auth/exchange when it answers `signup_required`; POST /auth/signup spends it. The browser sends it by itself.'
          },
          bearerToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'Native apps only: the access token from `tokens.accessToken` (POST /auth/exchange with `client: "native"`, POST /auth/:provider/token, POST /auth/signup, POST /auth/refresh). A browser session\'s access token is refused here, and a native one as a cookie. Requests authorized by it alone (no cookie) need no `X-Requested-With`.'
          },
          csrfHeader: {
            type: 'apiKey',
            in: 'header',
            name: CSRF_HEADER,
            description: 'Any value (`XMLHttpRequest`): a cross-site page cannot send a custom header without a CORS preflight, which only FRONTEND_ORIGINS pass; an `Origin` not allowed is refused too. Without it, 403 `csrf_rejected`. Swagger UI on this server is authorized with it already.'
          }
        }
      }
    },
    transform: declareCsrfHeader,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })
  if (!config.docsEnabled) return
  await app.register(fastifySwaggerUi, {
    routePrefix: `${routePrefix}/docs`,
    uiConfig: {
      withCredentials: true,
      // "Try it out" from this origin passes the CSRF check once the header is there: fill it in,
      // as if the user had typed it under "Authorize".
      onComplete: function () { ui.preauthorizeApiKey('csrfHeader', 'XMLHttpRequest') }
    }
  })
}

export default fp(openapi, { name: 'openapi' })
