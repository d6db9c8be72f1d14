import path from 'node:path'
import { parse as parseConnectionString } from 'pg-connection-string'
import { callbackPath } from '../auth/login-cookies.js'
import type { Config } from '../config.js'

// What a configuration points at, in words: the start line (src/server.ts) and `handoff check`
// print these, so both say the same thing.

/** The embedded database's directory, or PostgreSQL's host, port and database: never the password. */
export function describeDatabase (config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl === undefined) return `embedded (PGlite) in ${path.resolve(config.dataDir, 'pglite')}`
  // pg's own parser, so the host and database named are the ones pg connects to.
  const { host, port, database } = parseConnectionString(config.databaseUrl)
  return `PostgreSQL ${host || 'localhost'}:${port || 5432}/${database || '(the user\'s database)'}`
}

/** Each enabled provider with the callback URL to register with it (the dev provider: its login page). */
export function providerCallbacks (config: Config): Record<string, string> {
  const callbacks: Record<string, string> = {}
  for (const id of configuredProviderIds(config)) callbacks[id] = config.publicUrl + callbackPath(config, id)
  if (config.devLogin) callbacks.dev = `${config.publicUrl}/auth/dev/login (DEV_LOGIN)`
  return callbacks
}

/** The providers the settings enable, without reading any discovery document (src/providers/index.ts does, at start). */
export function configuredProviderIds (config: Config): string[] {
  const builtIn = (['kakao', 'naver', 'google', 'github', 'apple', 'oidc'] as const).filter(id => config[id] !== undefined)
  return [...builtIn, ...config.oidcIssuers.map(issuer => issuer.id)]
}

/** What the providers' unlink paths need, in words: the webhook URLs to register, and what is off for want of a setting. */
export interface UnlinkSetup {
  /** By provider: the unlink webhook URL to register in its console (src/auth/unlink-webhooks.ts). */
  webhooks: Record<string, string>
  /** One sentence per unlink path that is off. */
  off: string[]
}

export const KAKAO_UNLINK_OFF = 'kakao: KAKAO_ADMIN_KEY is not set, so deleting an account does not unlink it at Kakao (Kakao keeps listing the app for that person) and Kakao\'s unlink webhook is off; set KAKAO_ADMIN_KEY and KAKAO_APP_ID (docs/providers.md)'

export function unlinkSetup (config: Config): UnlinkSetup {
  const webhook = (id: string) => `${config.publicUrl}${config.prefix}/auth/${id}/unlink`
  const setup: UnlinkSetup = { webhooks: {}, off: [] }
  if (config.kakao !== undefined) {
    if (config.kakao.adminKey === undefined) setup.off.push(KAKAO_UNLINK_OFF)
    else setup.webhooks.kakao = webhook('kakao')
  }
  if (config.naver !== undefined) setup.webhooks.naver = webhook('naver')
  return setup
}

/** Swagger UI (src/plugins/openapi.ts). */
export const docsUrl = (config: Pick<Config, 'publicUrl'>) => `${config.publicUrl}/docs`

export const NO_PROVIDER_WARNING = 'no login provider is enabled: set GITHUB_CLIENT_ID, KAKAO_CLIENT_ID, NAVER_CLIENT_ID, GOOGLE_CLIENT_ID, APPLE_CLIENT_ID or OIDC_ISSUER with their secrets (.env.example, docs/providers.md), or DEV_LOGIN=true on this machine'
