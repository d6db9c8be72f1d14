import { Type } from 'typebox'
import { ErrorRef, PublicUserRef, ref } from '../schemas/common.js'
import { SignupProfileSchema } from '../users/schemas.js'
import { SECRET_PATTERN } from '../secrets.js'

export const ProviderParamsSchema = Type.Object({
  provider: Type.String({ description: 'Provider id, as listed by GET /auth/providers (e.g. `github`)', examples: ['github'] })
})

const ReturnToSchema = Type.String({
  maxLength: 2048,
  description: 'A path on the frontend to go back to after login, handed back with the code as `returnTo`. Anything not on the frontend\'s origin is dropped.'
})

export const LoginQuerySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema),
  code_challenge: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'base64url(SHA-256(code_verifier)): binds the one-time code to the holder of the verifier instead of to this browser\'s cookie (for frontends on another site). Send `code_verifier` to POST /auth/exchange.'
  })),
  code_challenge_method: Type.Optional(Type.Literal('S256'))
})

export const LinkQuerySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema)
})

export const LinkBodySchema = Type.Object({
  returnTo: Type.Optional(ReturnToSchema)
}, { additionalProperties: false, description: 'Optional; `returnTo` here wins over the query\'s.' })

export const LinkStartedSchema = Type.Object({
  authorizationUrl: Type.String({ format: 'uri', description: 'The provider\'s authorize page: navigate there (`location.assign`), do not fetch it.' })
}, { additionalProperties: false })

export const CallbackQuerySchema = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 1024 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 4096 }))
}, { additionalProperties: true })

export const ExchangeBodySchema = Type.Object({
  code: Type.String({ pattern: SECRET_PATTERN, description: 'The one-time code from the handoff redirect' }),
  code_verifier: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9._~-]{43,128}$',
    description: 'Only when the login started with `code_challenge`: the verifier (RFC 7636 characters, 43-128).'
  }))
}, { additionalProperties: false })

export const AuthenticatedSchema = Type.Object({
  status: Type.Literal('authenticated'),
  user: PublicUserRef
}, { additionalProperties: false })

export const ProvidersSchema = Type.Object({
  providers: Type.Array(Type.Object({
    id: Type.String({ examples: ['github'] }),
    name: Type.String({ examples: ['GitHub'] }),
    loginUrl: Type.String({ examples: ['/auth/github/login'] })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

const SignupRequiredSchema = Type.Object({
  status: Type.Literal('signup_required'),
  profile: ref(SignupProfileSchema)
}, { additionalProperties: false, description: 'A first-time user: no session yet. An HttpOnly signup cookie is set; POST /auth/signup with a nickname.' })

export const ExchangeResponses = {
  200: Type.Union([AuthenticatedSchema, SignupRequiredSchema], { description: 'Branch on `status`' }),
  400: ErrorRef,
  403: ErrorRef,
  429: ErrorRef
}
