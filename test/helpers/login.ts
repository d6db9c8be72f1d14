import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Browser } from './cookies.js'
import { PUBLIC_URL } from './build-app.js'

export interface LoginOutcome {
  /** Where the callback sent the browser (the frontend). */
  location: URL
  /** The handoff parameters, read from the fragment (or the query with HANDOFF_CODE_IN=query). */
  params: URLSearchParams
  /** What the provider's authorize step redirected to (our callback URL). */
  callbackUrl: URL
  callbackResponse: LightMyRequestResponse
}

/** GET through our app as this browser, keeping its cookies. */
export async function browse (app: FastifyInstance, browser: Browser, url: string, init: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE', payload?: unknown, headers?: Record<string, string | undefined> } = {}): Promise<LightMyRequestResponse> {
  const response = await app.inject({
    method: init.method ?? 'GET',
    url,
    // Like the documented frontend snippet: every call carries X-Requested-With (CSRF defence).
    headers: Object.fromEntries(Object.entries({ cookie: await browser.cookieHeader(url), 'x-requested-with': 'fetch', ...init.headers })
      .filter((entry): entry is [string, string] => entry[1] !== undefined)),
    ...(init.payload === undefined ? {} : { payload: init.payload as Record<string, unknown> })
  })
  await browser.store(url, response)
  return response
}

/**
 * The browser part of a login: start at our login route, follow the provider's authorize redirect
 * over real HTTP (the fake provider decides: approve or deny), and land on our callback.
 */
export async function loginThroughProvider (app: FastifyInstance, browser: Browser, provider: string, options: { loginQuery?: string, tamperCallback?: (url: URL) => void } = {}): Promise<LoginOutcome> {
  const start = await browse(app, browser, `/auth/${provider}/login${options.loginQuery ?? ''}`)
  if (start.statusCode !== 302) throw new Error(`login answered ${start.statusCode}: ${start.body}`)
  const authorize = await fetch(String(start.headers.location), { redirect: 'manual' })
  const callbackUrl = new URL(String(authorize.headers.get('location')))
  options.tamperCallback?.(callbackUrl)
  if (callbackUrl.origin !== browser.origin) throw new Error(`provider redirected to ${callbackUrl.origin}`)
  const callbackResponse = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  const location = new URL(String(callbackResponse.headers.location))
  const params = new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search)
  return { location, params, callbackUrl, callbackResponse }
}

/**
 * A full login that ends with session cookies in the browser: a first-time user signs up with the
 * suggested nickname (or `nickname`). Returns the response that set the session cookies.
 */
export async function signIn (app: FastifyInstance, browser: Browser, provider = 'github', options: { nickname?: string } = {}): Promise<LightMyRequestResponse> {
  const { params } = await loginThroughProvider(app, browser, provider)
  const code = params.get('code')
  if (code === null) throw new Error(`login ended with error ${params.get('error')}`)
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  if (exchange.statusCode !== 200 || exchange.json().status !== 'signup_required') return exchange
  const nickname = options.nickname ?? exchange.json().profile.suggestedNickname
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname } })
  if (signup.statusCode !== 201) throw new Error(`signup answered ${signup.statusCode}: ${signup.body}`)
  return signup
}

export const newBrowser = () => new Browser(PUBLIC_URL)

/**
 * Signs in through the dev provider as `id` (nickname `id`, an `@dev.example` address no other
 * provider knows, so nothing links by email), picking the nickname on a first login. Every call
 * opens a new session.
 */
export async function signInWithDev (app: FastifyInstance, browser: Browser, id: string): Promise<void> {
  const page = await browse(app, browser, '/auth/dev/login')
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const form = new URLSearchParams({ state, decision: 'allow', id, nickname: id, email: `${id}@dev.example` }).toString()
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  if (exchange.statusCode !== 200) throw new Error(exchange.body)
  if (exchange.json().status === 'authenticated') return
  const signup = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: id } })
  if (signup.statusCode !== 201) throw new Error(signup.body)
}
