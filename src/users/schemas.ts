import { Type } from 'typebox'
import { ErrorRef } from '../schemas/common.js'

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
  emailPrivate: Type.Boolean({ description: 'An Apple private relay address (`…@privaterelay.appleid.com`): it reaches the person only while `emailForwarding` is true, and never links accounts' }),
  emailForwarding: Type.Boolean({ description: 'False when the provider said it stopped delivering mail to this address (Apple: the person turned forwarding to the relay off). Do not mail it then' }),
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

export const DeleteAccountResponses = {
  204: Type.Null({ description: 'Deleted' }),
  401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
  403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS, nothing deleted; or `csrf_rejected`' }
}

export const UnlinkIdentityResponses = {
  204: Type.Null({ description: 'Unlinked' }),
  400: { ...ErrorRef, description: '`invalid_request`: an `id` over 64 characters' },
  401: { ...ErrorRef, description: '`not_authenticated`: no live session' },
  403: { ...ErrorRef, description: '`reauthentication_required`: the sign-in is older than REAUTH_MAX_AGE_SECONDS, nothing unlinked; or `csrf_rejected`' },
  404: { ...ErrorRef, description: '`identity_not_found`' },
  409: { ...ErrorRef, description: '`last_identity` or `identity_ambiguous`' }
}

/** The OpenAPI prose of the account routes; the route files keep their one-line summaries. */
export const UserDescriptions = {
  availability: 'Advisory: the answer can change before you submit (the database decides at signup). Rate-limited per client address (RATE_LIMIT_NICKNAME_PER_MINUTE, 60 by default), then 429 `rate_limited`.',
  changeNickname: 'Answers the updated profile and re-issues the access cookie, which carries the nickname. 400 `nickname_invalid` / `nickname_reserved`, 409 `nickname_taken`.',
  deleteAccount: 'Needs a recent sign-in: the session must have been opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default); refreshing does not count. Otherwise 403 `reauthentication_required` and nothing is deleted: send the user through a provider login again, then retry. 403 `csrf_rejected` without X-Requested-With or from an origin not allowed.',
  unlinkIdentity: '`id` is an identity\'s id from GET /users/me (an account may hold two identities of one provider, e.g. two GitHub accounts). ' +
    'A provider name (`github`) is still accepted while the account has exactly one identity of that provider; with several, 409 `identity_ambiguous`. ' +
    '409 `last_identity`: the account would have no way left to sign in. 404 `identity_not_found`: no such identity on this account. ' +
    'Needs a recent sign-in, like deleting the account: the session must have been opened (POST /auth/exchange or /auth/signup) within REAUTH_MAX_AGE_SECONDS (10 minutes by default); refreshing does not count. Otherwise 403 `reauthentication_required` and nothing is unlinked: send the user through a provider login again, then retry.'
}
