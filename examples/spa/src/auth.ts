// The frontend's whole part of the handoff: copy this file into your app. No dependencies.
// The API is on the page's own origin here; set API to its origin if it is elsewhere (and allow it in CORS).

export const API = ''

export interface User { id: string, nickname: string, avatarUrl: string | null }
export interface SignupProfile { suggestedNickname: string, name: string | null, email: string | null, avatarUrl: string | null, provider: string }
/**
 * What the callback handed over: a one-time `code`, or an `error` code (with, for some, the
 * `provider`, its own `providerCode` such as Kakao's KOE010, and the `missing` fields); `linked`
 * after linking a provider. GET /auth/messages words each of them.
 */
export interface Handoff { code?: string, error?: string, returnTo?: string, linked?: string, provider?: string, providerCode?: string, missing?: string }

/** An API error answer, `{ statusCode, code, error, message }`: `code` is stable, show a message for it. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

/** Every call: cookies included, and X-Requested-With, which the server requires on POST/PATCH/DELETE (CSRF). */
export async function api<T = unknown> (path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init
  const response = await fetch(API + path, {
    credentials: 'include',
    ...rest,
    headers: { 'X-Requested-With': 'fetch', ...(json === undefined ? {} : { 'Content-Type': 'application/json' }), ...rest.headers },
    ...(json === undefined ? {} : { body: JSON.stringify(json) })
  })
  const body = response.status === 204 ? undefined : await response.json().catch(() => undefined)
  if (!response.ok) throw new ApiError(response.status, body?.code ?? 'network_error', body?.message ?? response.statusText)
  return body as T
}

/**
 * Call this first, before anything else runs: it reads the one-time code (or error) that the
 * callback put in the fragment (or the query, with HANDOFF_CODE_IN=query) and erases it from the
 * address bar and the history entry, so Back, bookmarks and scripts never see it.
 */
export function takeHandoff (): Handoff {
  const params = new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search)
  if (!params.has('code') && !params.has('error') && !params.has('linked')) return {}
  history.replaceState(null, '', location.pathname)
  const value = (name: string) => params.get(name) ?? undefined
  return {
    code: value('code'),
    error: value('error'),
    returnTo: safePath(params.get('returnTo')),
    linked: value('linked'),
    provider: value('provider'),
    providerCode: value('provider_code'),
    missing: value('missing')
  }
}

/**
 * `path` if it stays on this page's origin, else undefined. A returnTo arrives in a URL anyone can
 * craft: `//evil.example`, `/\evil.example`, `https://evil.example` or `javascript:` would leave the site.
 */
export function safePath (path: string | null): string | undefined {
  if (path === null || !path.startsWith('/') || /^\/[/\\]/.test(path)) return undefined
  return new URL(path, location.origin).origin === location.origin ? path : undefined
}

/** Trades the one-time code for HttpOnly session cookies, or for a signup cookie on a first login. */
export const exchange = (code: string) => api<{ status: 'authenticated', user: User } | { status: 'signup_required', profile: SignupProfile }>(
  '/auth/exchange', { method: 'POST', json: { code } })

export const signup = (nickname: string) => api<{ user: User }>('/auth/signup', { method: 'POST', json: { nickname } })

export const nicknameAvailability = (nickname: string, signal?: AbortSignal) => api<{ nickname: string, available: boolean, reason?: string, message: string }>(
  `/auth/nickname/availability?nickname=${encodeURIComponent(nickname)}`, { signal })

// One refresh at a time: the refresh token rotates, so a second concurrent call would present a dead one.
let refreshing: Promise<{ user: User }> | undefined
export function refresh (): Promise<{ user: User }> {
  refreshing ??= api<{ user: User }>('/auth/refresh', { method: 'POST' }).finally(() => { refreshing = undefined })
  return refreshing
}

/** For calls that need the session: on a 401, refresh once (the access token is short-lived) and retry. */
export async function authed<T> (path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  try {
    return await api<T>(path, init)
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'not_authenticated') throw error
    await refresh()
    return api<T>(path, init)
  }
}

/** Who is signed in, or null. */
export async function currentUser (): Promise<User | null> {
  try {
    return (await authed<{ user: User }>('/auth/me')).user
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null
    throw error
  }
}

/**
 * Links another provider to the signed-in account. A POST (so no other site can start it), then the
 * browser goes to the provider; it comes back to this page with `linked=<provider>` or `error=…`.
 */
export async function linkProvider (provider: string, returnTo?: string): Promise<void> {
  const { authorizationUrl } = await authed<{ authorizationUrl: string }>(`/auth/${encodeURIComponent(provider)}/link`, { method: 'POST', json: returnTo === undefined ? {} : { returnTo } })
  location.assign(authorizationUrl)
}

/** Unlinks one identity by its id (GET /users/me lists them); 409 `last_identity` for the last one. */
export const unlinkIdentity = (identityId: string) => authed<void>(`/users/me/identities/${encodeURIComponent(identityId)}`, { method: 'DELETE' })

/**
 * Signs out (every session with `everywhere`). Resolves with the provider's own logout page when the
 * session was opened through one that has it (Kakao's "logout with the Kakao account", with
 * KAKAO_LOGOUT_REDIRECT_URI set), else null: on a shared computer, open it to sign out there too.
 */
export async function logout (everywhere = false): Promise<string | null> {
  const query = new URLSearchParams({ withProvider: 'true', ...(everywhere ? { all: 'true' } : {}) })
  const body = await api<{ providerLogoutUrl: string | null }>(`/auth/logout?${query.toString()}`, { method: 'POST' })
  return body?.providerLogoutUrl ?? null
}
