import { createHash } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type, type Static } from 'typebox'
import { callbackPath } from '../auth/login-cookies.js'
import type { Config } from '../config.js'
import { catalogOf, formatMessage, LANGUAGES, negotiateLanguage, varyOn, type Language } from './index.js'
import { MessageCatalogSchema, MessagesQuerySchema } from './schemas.js'

type MessageCatalog = Static<typeof MessageCatalogSchema>

/** What a frontend needs to word the codes it receives, in one language, for this server. */
function frontendCatalog (language: Language, config: Config): MessageCatalog {
  const catalog = catalogOf(language)
  const callbackUrl = config.publicUrl + callbackPath(config, 'kakao')
  const kakao = Object.fromEntries(Object.entries(catalog.kakao).map(([code, text]) => [code, formatMessage(text, { callbackUrl })]))
  return {
    language,
    login: catalog.login,
    fields: catalog.fields,
    listSeparator: catalog.listSeparator,
    providerCodes: { kakao },
    errors: catalog.errors
  }
}

/** `If-None-Match` names this entity tag (or `*`); weak tags compare equal, as RFC 9110 says for GET. */
function matches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(',').some(tag => { const value = tag.trim().replace(/^W\//, ''); return value === etag || value === '*' })
}

/** GET /auth/messages: the catalog for a frontend, built once per language, cacheable for an hour. */
export const messageRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const served = new Map(LANGUAGES.map(language => {
    const body = frontendCatalog(language, config)
    const etag = `"${language}-${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22)}"`
    return [language, { body, etag }]
  }))

  app.get('/messages', {
    schema: {
      operationId: 'getMessages',
      tags: ['messages'],
      summary: 'Sentences for every error code, in the reader\'s language',
      description: 'For a frontend that shows the `error=` of a login redirect (and `provider_code=`, `missing=`) or a JSON error `code` in the person\'s language: English and Korean, chosen by `lang`, else by Accept-Language, else English. ' +
        'Public and the same for everyone: `Cache-Control: public, max-age=3600` with an `ETag` (304 on `If-None-Match`), `Content-Language`, and `Vary: Accept-Language` when no `lang` was given.',
      querystring: MessagesQuerySchema,
      response: { 200: MessageCatalogSchema, 304: Type.Null({ description: 'Not modified: the `ETag` in If-None-Match is current. No body.' }) }
    }
  }, async (request, reply) => {
    const { lang } = request.query
    const language = negotiateLanguage(lang ?? request.headers['accept-language'])
    const { body, etag } = served.get(language) as { body: MessageCatalog, etag: string }
    // The same for every reader of that language: the hook's no-store for /auth/ does not apply here.
    reply.header('cache-control', 'public, max-age=3600').header('etag', etag).header('content-language', language)
    if (lang === undefined) varyOn(reply, 'Accept-Language')
    // No body at all (the typed send would serialize `null`).
    if (matches(request.headers['if-none-match'], etag)) return (reply as FastifyReply).code(304).send()
    return body
  })
}
