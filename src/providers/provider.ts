import { LoginErrorCode, LoginFlowError } from '../errors.js'

/** What every provider's profile becomes, whatever its wire format. */
export interface NormalizedProfile {
  provider: string
  /** The provider's stable user id, always a string. */
  providerUserId: string
  /** The provider's handle or nickname: our nickname suggestion. */
  nickname?: string
  name?: string
  email?: string
  /** True only when the provider says it verified this address. */
  emailVerified: boolean
  avatarUrl?: string
}

/** The token endpoint's reply, as simple-oauth2 (inside @fastify/oauth2) parsed it. */
export type TokenResponse = Record<string, unknown>

export interface ProviderCallContext {
  timeoutMs: number
}

/** The endpoints and options handed to @fastify/oauth2 for this provider. */
export interface OAuth2Settings {
  clientId: string
  clientSecret: string
  authorizeUrl: string
  tokenUrl: string
  scope: string[]
  /** How the scope list is joined in the authorize URL (Kakao wants commas). Default: a space. */
  scopeSeparator?: string
  pkce?: 'S256'
  /** Extra authorize parameters (GitHub's `allow_signup`, Kakao's `prompt`, …). */
  authorizeParams?: Record<string, string>
  /** How the client authenticates at the token endpoint. */
  clientAuth: 'body' | 'header'
}

export interface Provider {
  id: string
  displayName: string
  oauth2: OAuth2Settings
  /** Reads the token reply, turning a provider's error-in-a-200 into a LoginFlowError. */
  readAccessToken(reply: TokenResponse): string
  fetchProfile(accessToken: string, context: ProviderCallContext): Promise<NormalizedProfile>
}

/** GETs a provider API as JSON, bounded by the provider timeout; failures become LoginFlowErrors. */
export async function fetchProviderJson (url: string, init: RequestInit & { timeoutMs: number }): Promise<{ status: number, body: unknown, text: string }> {
  let response: Response
  let text: string
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs) })
    text = await response.text()
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError'
    throw new LoginFlowError(
      timedOut ? LoginErrorCode.providerTimeout : LoginErrorCode.providerProfileError,
      timedOut ? `provider did not answer within ${init.timeoutMs} ms: ${new URL(url).pathname}` : `provider request failed: ${new URL(url).pathname}`,
      { cause: error }
    )
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new LoginFlowError(LoginErrorCode.providerProfileError, `provider answered ${response.status} with non-JSON from ${new URL(url).pathname}`)
  }
  return { status: response.status, body, text }
}

export const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined
