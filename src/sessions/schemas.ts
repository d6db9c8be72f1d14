import { Type } from 'typebox'
import { PublicUserRef } from '../schemas/common.js'

export const MeSchema = Type.Object({
  user: PublicUserRef
}, { additionalProperties: false })

export const RefreshedSchema = Type.Object({
  status: Type.Literal('refreshed'),
  user: PublicUserRef
}, { additionalProperties: false })

export const LogoutQuerySchema = Type.Object({
  all: Type.Optional(Type.Boolean({ description: 'Sign out every session of this user, on every device' }))
})

export const SessionListSchema = Type.Object({
  sessions: Type.Array(Type.Object({
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.String({ format: 'date-time', description: 'The last refresh' }),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'The session of this request' })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export const SessionParamsSchema = Type.Object({
  id: Type.String({ format: 'uuid' })
})
