import Negotiator from 'negotiator'
import type { FastifyReply } from 'fastify'
import { en } from './en.js'
import { ko, type Translation } from './ko.js'

// One owner for every sentence a person reads from handoff: the catalogs beside this file, chosen
// per request from Accept-Language. Codes stay the contract; messages follow the reader.

export const LANGUAGES = ['en', 'ko'] as const
export type Language = typeof LANGUAGES[number]
export const DEFAULT_LANGUAGE: Language = 'en'

export type Catalog = Translation
const CATALOGS: Record<Language, Catalog> = { en, ko }
export const catalogOf = (language: Language): Catalog => CATALOGS[language]

export type ErrorMessageCode = keyof Catalog['errors']
export type DetailKey = keyof Catalog['details']
export type MessageParams = Record<string, string | number>

/**
 * The language to answer in: the best of `accepted` (an Accept-Language value, q-values and
 * `ko-KR` → `ko` included) among ours, or English when none is acceptable or nothing was said.
 */
export function negotiateLanguage (accepted: string | undefined): Language {
  if (accepted === undefined || accepted === '') return DEFAULT_LANGUAGE
  const best = new Negotiator({ headers: { 'accept-language': accepted } }).language([...LANGUAGES])
  return (best as Language | undefined) ?? DEFAULT_LANGUAGE
}

/** Fills `{name}` placeholders; one without a value stays as it is. */
export function formatMessage (template: string, params: MessageParams = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => Object.hasOwn(params, name) ? String(params[name]) : whole)
}

/** Which catalog sentence an error's answer says, when its code alone is not precise enough. */
export interface Wording { key: DetailKey, params?: MessageParams }
const WORDING = Symbol('handoff.wording')
type Worded = { [WORDING]?: Wording }

/** Marks an error with a precise sentence; its own `message` (what logs and a host app's handler see) becomes the English one. */
export function withWording<E extends Error> (error: E, key: DetailKey, params?: MessageParams): E {
  (error as E & Worded)[WORDING] = { key, params }
  error.message = formatMessage(en.details[key], params)
  return error
}

export const wordingOf = (error: unknown): Wording | undefined =>
  typeof error === 'object' && error !== null ? (error as Worded)[WORDING] : undefined

/**
 * The `message` of an error answer in `language`, or undefined for a code the catalog does not know
 * (a host app's own errors keep their message). An error thrown with a detail of its own (Fastify's
 * validation message, a webhook's reason) keeps that detail after the catalog's sentence.
 */
export function errorMessage (language: Language, code: string, error: { message: string }): string | undefined {
  const catalog = CATALOGS[language]
  const wording = wordingOf(error)
  if (wording !== undefined) return formatMessage(catalog.details[wording.key], wording.params)
  if (!Object.hasOwn(catalog.errors, code)) return undefined
  const sentence = catalog.errors[code as ErrorMessageCode]
  const detail = error.message
  if (detail === '' || detail === en.errors[code as ErrorMessageCode]) return sentence
  return `${sentence} (${detail})`
}

/** Adds a token to the response's Vary header, beside what CORS put there. */
export function varyOn (reply: FastifyReply, header: string): void {
  const current = reply.getHeader('vary')
  const values = typeof current === 'string' ? current.split(',').map(value => value.trim()).filter(Boolean) : []
  if (values.includes('*') || values.some(value => value.toLowerCase() === header.toLowerCase())) return
  reply.header('vary', [...values, header].join(', '))
}

/** The headers of an answer whose words depend on Accept-Language. */
export function markLanguage (reply: FastifyReply, language: Language): void {
  reply.header('content-language', language)
  varyOn(reply, 'Accept-Language')
}
