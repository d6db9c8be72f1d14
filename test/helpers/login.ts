import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Browser } from './cookies.js'
import { PUBLIC_URL } from './build-app.js'
import { parseHtmlForm } from './forms.js'

export interface LoginOutcome {
  /** Where the callback sent the browser (the frontend). */
  location: URL
  /** The handoff parameters, read from the fragment (or the query with HANDOFF_CODE_IN=query). */
  params: URLSearchParams
  /**
   * What the provider's authorize step sent the browser to: our callback URL, or for a form_post
   * provider (Apple) the form's action with its fields as the query (tamper with them there).
   */
  callbackUrl: URL
  callbackResponse: LightMyRequestResponse
  /** A form_post provider's callback: the relay page our first POST answered (the browser posted it again). */
  relayResponse?: LightMyRequestResponse
}

/** GET through our app as this browser, keeping its cookies. */
export async function browse (app: FastifyInstance, browser: Browser, url: string, init: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE', payload?: unknown, headers?: Record<string, string | undefined>, crossSite?: boolean } = {}): Promise<LightMyRequestResponse> {
  const response = await app.inject({
    method: init.method ?? 'GET',
    url,
    // Like the documented frontend snippet: every call carries X-Requested-With (CSRF defence).
    headers: Object.fromEntries(Object.entries({ cookie: await browser.cookieHeader(url, init.crossSite === true ? 'none' : undefined), 'x-requested-with': 'fetch', ...init.headers })
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
  const authorizeUrl = String(start.headers.location)
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' })
  if (authorize.status === 200) return postBackThroughForm(app, browser, authorizeUrl, await authorize.text(), options)
  const callbackUrl = new URL(String(authorize.headers.get('location')))
  options.tamperCallback?.(callbackUrl)
  if (callbackUrl.origin !== browser.origin) throw new Error(`provider redirected to ${callbackUrl.origin}`)
  const callbackResponse = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  return { ...frontendParams(callbackResponse), callbackUrl, callbackResponse }
}

function frontendParams (callbackResponse: LightMyRequestResponse): { location: URL, params: URLSearchParams } {
  const location = new URL(String(callbackResponse.headers.location))
  return { location, params: new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search) }
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': undefined }

/**
 * A form_post provider's page (Apple): the browser posts its form to our callback from the provider's
 * site, so only SameSite=None cookies go along; if we answer with a relay page, the browser posts
 * that one from our own origin, with every cookie.
 */
async function postBackThroughForm (app: FastifyInstance, browser: Browser, pageUrl: string, html: string, options: { tamperCallback?: (url: URL) => void }): Promise<LoginOutcome> {
  const form = parseHtmlForm(html, pageUrl)
  if (form === undefined || form.method !== 'post') throw new Error(`provider page has no form to post: ${html.slice(0, 200)}`)
  const callbackUrl = new URL(form.action)
  callbackUrl.search = form.fields.toString()
  options.tamperCallback?.(callbackUrl)
  if (callbackUrl.origin !== browser.origin) throw new Error(`provider posted to ${callbackUrl.origin}`)
  const callbackResponse = await browse(app, browser, callbackUrl.pathname, {
    method: 'POST', payload: callbackUrl.searchParams.toString(), headers: { ...FORM, origin: new URL(pageUrl).origin }, crossSite: true
  })
  if (callbackResponse.statusCode !== 200) return { ...frontendParams(callbackResponse), callbackUrl, callbackResponse }
  const relay = parseHtmlForm(callbackResponse.body, browser.origin + callbackUrl.pathname)
  if (relay === undefined || relay.method !== 'post' || relay.action.origin !== browser.origin) throw new Error(`callback answered 200 without a relay form: ${callbackResponse.body.slice(0, 200)}`)
  const relayed = await browse(app, browser, relay.action.pathname, { method: 'POST', payload: relay.fields.toString(), headers: { ...FORM, origin: browser.origin } })
  return { ...frontendParams(relayed), callbackUrl, callbackResponse: relayed, relayResponse: callbackResponse }
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
