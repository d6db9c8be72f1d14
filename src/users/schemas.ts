import { Type } from 'typebox'

export const NicknameBodySchema = Type.Object({
  nickname: Type.String({ maxLength: 200, description: '2-20 characters: Hangul syllables, Latin letters, digits, `_` and `.`; not only digits. NFC-normalized and trimmed; unique regardless of case.', examples: ['홍길동', 'octo.cat'] })
}, { additionalProperties: false })

export const AvailabilityQuerySchema = Type.Object({
  nickname: Type.String({ maxLength: 200 })
})

export const AvailabilitySchema = Type.Object({
  nickname: Type.String({ description: 'The nickname as it would be stored (NFC-normalized, trimmed)' }),
  available: Type.Boolean(),
  reason: Type.Optional(Type.Union([Type.Literal('taken'), Type.Literal('invalid'), Type.Literal('reserved')], { description: 'Why it is not available' })),
  message: Type.String({ description: 'A sentence a UI can show as it is' })
}, { additionalProperties: false })

export const SignupProfileSchema = Type.Object({
  suggestedNickname: Type.String({ description: 'A valid, currently free nickname derived from the provider profile' }),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  provider: Type.String({ examples: ['kakao'] })
}, { $id: 'SignupProfile', additionalProperties: false })

const IdentitySchema = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Unlinks it: DELETE /users/me/identities/{id}' }),
  provider: Type.String({ examples: ['github'] }),
  email: Type.Union([Type.String(), Type.Null()]),
  emailVerified: Type.Boolean(),
  linkedAt: Type.String({ format: 'date-time' }),
  lastLoginAt: Type.String({ format: 'date-time' })
}, { additionalProperties: false })

export const UserProfileSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  nickname: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()], { description: 'Only a provider-verified address' }),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  identities: Type.Array(IdentitySchema)
}, { $id: 'UserProfile', additionalProperties: false })
