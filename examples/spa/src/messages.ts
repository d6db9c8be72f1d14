// Readable sentences for every `error=` code of the redirect and every API error `code`, in the
// page's language: the server's catalog (GET /auth/messages), loaded once at start.

import { ApiError, api, type Handoff } from './auth.js'
import { fill, language, text } from './i18n.js'

interface Catalog {
  language: string
  login: Record<string, string>
  errors: Record<string, string>
  fields: Record<string, string>
  listSeparator: string
  providerCodes: Record<string, Record<string, string>>
}

let catalog: Catalog | undefined

/** Loads the catalog in the page's language; without it the page still works, with plainer sentences. */
export async function loadMessages (): Promise<void> {
  try {
    catalog = await api<Catalog>(`/auth/messages?lang=${language}`)
  } catch {
    catalog = undefined
  }
}

/** The sentence for an API error `code` the page has no server message for. */
export function describeError (code: string): string {
  return catalog?.errors[code] ?? catalog?.login[code] ?? text('unknownError', { code })
}

/** What a failed call says: the server's own message (already in the request's language), or ours when it never answered. */
export function messageText (error: unknown): string {
  if (error instanceof ApiError && error.code !== 'network_error') return error.message || describeError(error.code)
  return text('networkError')
}

/**
 * The sentence for the `error=` a login or link ended with, and, when the provider said which of its
 * codes (`provider_code=`, Kakao's KOE…), what the developer has to change.
 */
export function describeLoginError (handoff: Handoff): { message: string, hint?: string } {
  const code = handoff.error ?? 'server_error'
  const template = catalog?.login[code]
  if (template === undefined) return { message: text('unknownError', { code }) }
  const missing = handoff.missing?.split(',').filter(Boolean).map(field => catalog?.fields[field] ?? field).join(catalog?.listSeparator ?? ', ')
  const message = fill(template, { missing: missing === undefined || missing === '' ? text('requiredInformation') : missing })
  const explained = handoff.providerCode === undefined ? undefined : catalog?.providerCodes[handoff.provider ?? '']?.[handoff.providerCode]
  return { message, hint: explained === undefined ? undefined : `${text('forTheDeveloper', { code: handoff.providerCode as string })} ${explained}` }
}
