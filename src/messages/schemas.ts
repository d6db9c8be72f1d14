import { Type, type TSchema } from 'typebox'
import { PROFILE_FIELDS } from '../config.js'
import { LoginErrorCode } from '../errors.js'
import { en } from './en.js'

/** One sentence per key, every key listed: the document names each code a frontend can look up. */
const sentences = (keys: readonly string[], description: string) =>
  Type.Object(Object.fromEntries(keys.map(key => [key, Type.String()])) as Record<string, TSchema>, { additionalProperties: false, description })

export const MessagesQuerySchema = Type.Object({
  lang: Type.Optional(Type.String({
    maxLength: 64,
    description: 'The language to answer in (`ko`, `en`; a tag such as `ko-KR` or an Accept-Language list works too), instead of the Accept-Language header. Anything else: English.',
    examples: ['ko']
  }))
})

export const MessageCatalogSchema = Type.Object({
  // Written out for TypeBox's types; test/messages/catalog.test.ts checks it against LANGUAGES.
  language: Type.Union([Type.Literal('en'), Type.Literal('ko')], { description: 'The language of every sentence below (also in Content-Language)' }),
  login: sentences(Object.values(LoginErrorCode), 'For the frontend\'s `error=<code>` after a login or a link. `{missing}` (provider_consent_missing): the `missing=` fields, each named by `fields`, joined by `listSeparator`.'),
  fields: sentences(PROFILE_FIELDS, 'Names of the profile fields `missing=` lists'),
  listSeparator: Type.String({ description: 'Joins the names that fill `{missing}`' }),
  providerCodes: Type.Object({
    kakao: sentences(Object.keys(en.kakao), 'Kakao\'s `KOE` codes (`provider_code=` beside `error=`, with `provider=kakao`): what the developer changes in Kakao\'s console. Filled in with this server\'s callback URL.')
  }, { additionalProperties: false }),
  errors: sentences(Object.keys(en.errors), 'For the `code` of a JSON error answer (whose own `message` is already in the request\'s language)')
}, { additionalProperties: false })
