import type { preValidationHookHandler } from 'fastify'
import { Type, type Static, type TSchema } from 'typebox'

// Shared schemas carry an $id: plugins/openapi.ts publishes them as named components, and routes
// point at them with ref() so validation, serialization and the docs agree.

const ErrorSchema = Type.Object({
  statusCode: Type.Integer({ examples: [400] }),
  code: Type.String({ description: 'Stable, machine-readable error code (see the README)', examples: ['login_code_invalid'] }),
  error: Type.String({ examples: ['Bad Request'] }),
  message: Type.String({ description: 'Human-readable, in the language Accept-Language prefers (Korean or English; see Content-Language); may change' })
}, { $id: 'Error', additionalProperties: false })

const PublicUserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  nickname: Type.String(),
  avatarUrl: Type.Union([Type.String(), Type.Null()])
}, { $id: 'PublicUser', additionalProperties: false })

export const sharedSchemas = [ErrorSchema, PublicUserSchema]

/** A reference to a shared schema that keeps the referenced type for TypeScript. */
export const ref = <T extends TSchema>(schema: T): T => Type.Unsafe<Static<T>>({ $ref: `${(schema as { $id?: string }).$id ?? ''}#` }) as unknown as T

export const ErrorRef = ref(ErrorSchema)
export const PublicUserRef = ref(PublicUserSchema)

// Security requirements name the schemes of plugins/openapi.ts. The CSRF header is added there to
// every route with `config.csrf`, so a route names only the cookies it reads.

/** For routes that read the access token: a browser's cookie, or a native app's `Authorization: Bearer`. */
export const accessTokenSecurity: Array<Record<string, string[]>> = [{ accessCookie: [] }, { bearerToken: [] }]
/** For routes that need a browser session's access cookie (starting a link). */
export const accessCookieSecurity = [{ accessCookie: [] }]
/** POST /auth/refresh reads the refresh cookie. */
export const refreshCookieSecurity = [{ refreshCookie: [] }]
/** POST /auth/signup reads the first-login cookie. */
export const signupCookieSecurity = [{ signupCookie: [] }]

/** For a route whose JSON body is optional: a POST with no body at all is validated as an empty one. */
export const emptyBodyWhenAbsent: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {}
  done()
}
