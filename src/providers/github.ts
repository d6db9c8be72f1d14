import type { GitHubConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError } from '../errors.js'
import { fetchProviderJson, optionalString, type Provider, type TokenResponse } from './provider.js'

// Paths are GitHub's; only the hosts are configurable (GitHub Enterprise, tests).
const AUTHORIZE_PATH = '/login/oauth/authorize'
const TOKEN_PATH = '/login/oauth/access_token'
const USER_PATH = '/user'
const EMAILS_PATH = '/user/emails'

// GitHub's API refuses requests without a User-Agent (403).
const USER_AGENT = 'handoff'

interface GitHubUser { id?: unknown, login?: unknown, name?: unknown, avatar_url?: unknown }
interface GitHubEmail { email?: unknown, primary?: unknown, verified?: unknown }

export function createGitHubProvider (config: GitHubConfig): Provider {
  const apiHeaders = (accessToken: string) => ({
    authorization: `Bearer ${accessToken}`,
    accept: 'application/vnd.github+json',
    'user-agent': USER_AGENT,
    'x-github-api-version': '2022-11-28'
  })

  return {
    id: 'github',
    displayName: 'GitHub',
    oauth2: {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      authorizeUrl: config.webUrl + AUTHORIZE_PATH,
      tokenUrl: config.webUrl + TOKEN_PATH,
      scope: ['read:user', 'user:email'],
      // GitHub supports PKCE (S256) since July 2025.
      pkce: 'S256',
      clientAuth: 'body'
    },

    // GitHub's account picker, even with one account signed in (github.blog changelog 2024-06-07).
    loginParams: ({ promptLogin }): Record<string, string> => promptLogin === true ? { prompt: 'select_account' } : {},

    readAccessToken (reply: TokenResponse): string {
      // GitHub reports token errors with HTTP 200 and an `error` field.
      if (typeof reply.error === 'string') {
        throw new LoginFlowError(LoginErrorCode.providerTokenError, `GitHub token error: ${reply.error}`)
      }
      if (typeof reply.access_token !== 'string' || reply.access_token === '') {
        throw new LoginFlowError(LoginErrorCode.providerTokenError, 'GitHub token reply has no access_token')
      }
      return reply.access_token
    },

    async fetchProfile (accessToken, { timeoutMs }) {
      const [user, emails] = await Promise.all([
        fetchProviderJson(config.apiUrl + USER_PATH, { headers: apiHeaders(accessToken), timeoutMs }),
        fetchProviderJson(config.apiUrl + EMAILS_PATH, { headers: apiHeaders(accessToken), timeoutMs })
      ])
      const profile = user.body as GitHubUser
      if (user.status !== 200 || (typeof profile.id !== 'number' && typeof profile.id !== 'string')) {
        throw new LoginFlowError(LoginErrorCode.providerProfileError, `GitHub ${USER_PATH} answered ${user.status}`)
      }
      // Without the user:email grant the list is refused; the login still works, just without an email.
      const primary = emails.status === 200 && Array.isArray(emails.body)
        ? (emails.body as GitHubEmail[]).find(entry => entry.primary === true && typeof entry.email === 'string')
        : undefined
      return {
        provider: 'github',
        providerUserId: String(profile.id),
        nickname: optionalString(profile.login),
        name: optionalString(profile.name),
        email: primary?.email as string | undefined,
        emailVerified: primary?.verified === true,
        avatarUrl: optionalString(profile.avatar_url)
      }
    }
  }
}
