import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { Browser } from './cookies.js'
import { loginThroughProvider, newBrowser, type LoginOutcome } from './login.js'

// A native app as the tests play it: the system browser (a cookie jar of its own) runs the login, and
// the app itself calls the API with JSON bodies and a bearer token, never a cookie.

/** The redirect targets the native tests list in NATIVE_REDIRECT_URIS. */
export const APP_REDIRECT = 'com.example.app:/oauth'
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback'
export const APP_LINK_REDIRECT = 'https://app.example.com/auth/native'
export const NATIVE_ENV = { NATIVE_REDIRECT_URIS: `${APP_REDIRECT}, ${LOOPBACK_REDIRECT}, ${APP_LINK_REDIRECT}` }

export function pkcePair (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface NativeLoginOutcome extends LoginOutcome {
  /** The system browser that ran the login. */
  browser: Browser
  verifier: string
  code: string | null
  error: string | null
  state: string | null
}

/** The system-browser part: GET /auth/:provider/login with redirect_uri and PKCE, the provider, our callback. */
export async function nativeLogin (app: FastifyInstance, provider = 'github', options: { redirectUri?: string, state?: string, browser?: Browser } = {}): Promise<NativeLoginOutcome> {
  const { verifier, challenge } = pkcePair()
  const browser = options.browser ?? newBrowser()
  const query = new URLSearchParams({ redirect_uri: options.redirectUri ?? APP_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: options.state ?? 'app-state-1' })
  const outcome = await loginThroughProvider(app, browser, provider, { loginQuery: `?${query}` })
  return { ...outcome, browser, verifier, code: outcome.params.get('code'), error: outcome.params.get('error'), state: outcome.params.get('state') }
}

/** A request from the app: JSON, no cookie, the CSRF header the docs ask for (a bearer token when given). */
export function appRequest (app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { payload?: Record<string, unknown>, accessToken?: string, headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { 'x-requested-with': 'app', ...(options.accessToken === undefined ? {} : { authorization: `Bearer ${options.accessToken}` }), ...options.headers },
    ...(options.payload === undefined ? {} : { payload: options.payload })
  })
}

export interface NativeSession {
  user: { id: string, nickname: string }
  accessToken: string
  refreshToken: string
}

/** A whole native login (Path A), with the nickname signup on a first login: the app's tokens. */
export async function nativeSignIn (app: FastifyInstance, provider = 'github', options: { nickname?: string, deviceSecret?: string } = {}): Promise<NativeSession> {
  const login = await nativeLogin(app, provider)
  if (login.code === null) throw new Error(`native login ended with error=${login.error}`)
  const device = options.deviceSecret === undefined ? {} : { deviceSecret: options.deviceSecret }
  let answer = await appRequest(app, 'POST', '/auth/exchange', { payload: { code: login.code, code_verifier: login.verifier, client: 'native', ...device } })
  if (answer.statusCode !== 200) throw new Error(`native exchange answered ${answer.statusCode}: ${answer.body}`)
  if (answer.json().status === 'signup_required') {
    const nickname = options.nickname ?? answer.json().profile.suggestedNickname
    answer = await appRequest(app, 'POST', '/auth/signup', { payload: { nickname, signupToken: answer.json().signupToken, ...device } })
    if (answer.statusCode !== 201) throw new Error(`native signup answered ${answer.statusCode}: ${answer.body}`)
  }
  const { user, tokens } = answer.json()
  return { user, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }
}

/** Nothing a refused SDK token or code may leave behind: no account, identity, code, signup, session, used id_token or kept provider token. */
export async function nothingWritten (t: Pick<Test, 'same'>, { app }: { app: FastifyInstance }): Promise<void> {
  const { prisma, sql } = app.handoff.db
  t.same({
    users: await prisma.user.count(),
    identities: await prisma.identity.count(),
    codes: await prisma.loginCode.count(),
    pendingSignups: await prisma.pendingSignup.count(),
    sessions: await prisma.session.count(),
    usedIdTokens: await prisma.usedIdToken.count(),
    providerTokens: (await sql.query('SELECT 1 FROM provider_tokens')).length
  }, { users: 0, identities: 0, codes: 0, pendingSignups: 0, sessions: 0, usedIdTokens: 0, providerTokens: 0 }, 'nothing written')
}
