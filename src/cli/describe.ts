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

/** Swagger UI (src/plugins/openapi.ts). */
export const docsUrl = (config: Pick<Config, 'publicUrl'>) => `${config.publicUrl}/docs`

export const NO_PROVIDER_WARNING = 'no login provider is enabled: set GITHUB_CLIENT_ID, KAKAO_CLIENT_ID, NAVER_CLIENT_ID, GOOGLE_CLIENT_ID, APPLE_CLIENT_ID or OIDC_ISSUER with their secrets (.env.example, docs/providers.md), or DEV_LOGIN=true on this machine'
