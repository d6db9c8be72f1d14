import { constants, existsSync } from 'node:fs'
import { access } from 'node:fs/promises'
import path from 'node:path'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { databaseTarget, openDatabase } from '../db/database.js'
import { migrationStatus } from '../db/migrate.js'
import { enabledProviders } from '../providers/index.js'
import { configuredTokenKeys, NO_TOKEN_KEYS_WARNING } from '../providers/token-vault.js'
import { parsePrivateKeys } from '../sessions/signing-keys.js'
import { configuredProviderIds, describeDatabase, docsUrl, NO_PROVIDER_WARNING, providerCallbacks, unlinkSetup } from './describe.js'
import { oneLine } from './one-line.js'
import { crossSiteOrigins } from './site.js'
import { packageVersion } from './version.js'

// `handoff check`: what a start would find, without starting. Findings go to stdout; each problem is
// one line on stderr, and any problem makes the exit code 1. Warnings do not.

interface Report { found: Array<[string, string]>, warnings: string[], problems: string[] }

export async function checkCommand (): Promise<void> {
  let config: Readonly<Config>
  try {
    config = loadConfig(process.env, { dotenv: true })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    // Several bad settings arrive joined in one message: one line each.
    for (const problem of error.message.split(/; (?=Invalid setting )/)) console.error(`handoff: ${problem}`)
    process.exitCode = 1
    return
  }
  const report = await checkConfig(config)
  console.log(`handoff ${packageVersion()}, NODE_ENV=${config.nodeEnv}, settings from the environment${existsSync('.env') ? ' and ./.env' : ''}`)
  const width = Math.max(...report.found.map(([label]) => label.length))
  for (const [label, text] of report.found) console.log(`${label.padEnd(width)}  ${text}`)
  for (const warning of report.warnings) console.log(`warning: ${warning}`)
  for (const problem of report.problems) console.error(`handoff: ${problem}`)
  if (report.problems.length > 0) process.exitCode = 1
  else console.log(report.warnings.length === 0 ? 'no problems found' : 'no problems found; see the warnings above')
}

async function checkConfig (config: Readonly<Config>): Promise<Report> {
  const report: Report = { found: [], warnings: [], problems: [] }
  report.found.push(['server', `listens on ${config.host}:${config.port}, reached at ${config.publicUrl}`])
  try {
    report.found.push(['signing', describeSigning(config)])
  } catch (error) {
    report.problems.push(`Invalid setting JWT_PRIVATE_KEYS: ${oneLine(error)}`)
  }
  try {
    report.found.push(['tokens', describeTokenKeys(config)])
  } catch (error) {
    report.problems.push(oneLine(error))
  }
  if (config.nodeEnv === 'production' && config.providerTokenKeys === undefined) report.warnings.push(NO_TOKEN_KEYS_WARNING)
  // Side by side, each into a report of its own, so the order printed does not depend on who answers first.
  const sections = await Promise.all([checkDatabase, checkRedis, checkProviders].map(async check => {
    const section: Report = { found: [], warnings: [], problems: [] }
    await check(config, section)
    return section
  }))
  for (const { found, warnings, problems } of sections) {
    report.found.push(...found)
    report.warnings.push(...warnings)
    report.problems.push(...problems)
  }

  report.found.push(['frontend', config.frontendUrl])
  if (config.allowedOrigins.length > 1) report.found.push(['origins', config.allowedOrigins.join(', ')])
  for (const origin of crossSiteOrigins(config.publicUrl, config.allowedOrigins)) {
    report.warnings.push(`the frontend ${origin} and this server (${config.publicUrl}) are on different sites: Safari and Firefox drop the session cookies on its API calls, so its users appear signed out. Serve both on one site (a reverse proxy, or sibling subdomains): "Where the frontend lives" in docs/deployment.md`)
  }
  report.found.push(['docs', docsUrl(config)])
  return report
}

function describeSigning (config: Readonly<Config>): string {
  if (config.jwtAlgorithm === 'HS256') return config.jwtSecret === undefined ? 'HS256, a secret generated in DATA_DIR (development only)' : `HS256, JWT_SECRET${config.jwtPreviousSecrets.length > 0 ? ` and ${config.jwtPreviousSecrets.length} previous` : ''}`
  if (config.jwtPrivateKeys === undefined) return `${config.jwtAlgorithm}, a key generated in DATA_DIR (development only)`
  // Parsed here as the server parses them at start: a key that is none is a problem now, not then.
  const keys = parsePrivateKeys(config.jwtPrivateKeys, config.jwtAlgorithm)
  return keys.length === 0 ? `${config.jwtAlgorithm}, a key generated in DATA_DIR (development only)` : `${config.jwtAlgorithm}, signing key ${keys[0].kid}${keys.length > 1 ? ` and ${keys.length - 1} more that verify` : ''}`
}

/** The providers' tokens at rest: PROVIDER_TOKEN_KEYS parsed as a start parses it (a ConfigError naming it). */
function describeTokenKeys (config: Readonly<Config>): string {
  const keys = configuredTokenKeys(config)
  if (keys === undefined) return config.nodeEnv === 'production' ? 'providers\' tokens not kept (PROVIDER_TOKEN_KEYS unset)' : 'providers\' tokens sealed (AES-256-GCM) with a key generated in DATA_DIR (development only)'
  return `providers' tokens sealed (AES-256-GCM) with key ${keys[0].id}${keys.length > 1 ? `; ${keys.length - 1} older that still open` : ''}`
}

async function checkDatabase (config: Readonly<Config>, report: Report): Promise<void> {
  const where = describeDatabase(config)
  const target = databaseTarget(config)
  if (target.kind === 'pglite') {
    // Not opened: it belongs to one process, perhaps a server running now.
    const dir = target.dataDir as string
    const exists = existsSync(path.join(dir, 'PG_VERSION'))
    report.found.push(['database', `${where}, ${exists ? 'exists (migrated at every start)' : 'created from the seed at the first start'}`])
    if (!await writable(dir)) report.problems.push(`DATA_DIR: cannot write to ${dir} (or the nearest existing directory above it)`)
    return
  }
  const db = await openDatabase(target)
  try {
    const { applied, pending } = await migrationStatus(db.sql)
    report.found.push(['database', `${where}, reached, ${applied} migrations applied, ${pending.length} pending`])
    if (pending.length > 0 && !config.migrateOnStart) report.problems.push(`database ${where}: ${pending.length} migrations pending (first: ${pending[0]}): run \`handoff migrate\`, or set MIGRATE_ON_START=true`)
  } catch (error) {
    report.problems.push(`database ${where} not reachable: ${oneLine(error) || String((error as { code?: string }).code)}`)
  } finally {
    await db.close()
  }
}

async function writable (dir: string): Promise<boolean> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(current)) return access(current, constants.W_OK).then(() => true, () => false)
    if (path.dirname(current) === current) return false
  }
}

async function checkRedis (config: Readonly<Config>, report: Report): Promise<void> {
  if (config.redisUrl === undefined) return
  const { Redis } = await import('ioredis')
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: config.providerTimeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {}) // reported below, once
  const url = new URL(config.redisUrl)
  const where = `Redis ${url.hostname}:${url.port || 6379}`
  try {
    await redis.connect()
    await redis.ping()
    report.found.push(['redis', `${where}, reached`])
  } catch (error) {
    report.problems.push(`${where} (REDIS_URL) not reachable: ${oneLine(error)}`)
  } finally {
    redis.disconnect()
  }
}

async function checkProviders (config: Readonly<Config>, report: Report): Promise<void> {
  const callbacks = providerCallbacks(config)
  // OpenID Connect issuers are read by discovery, as the server does at start.
  let discovery = ''
  try {
    await enabledProviders(config)
    if (config.oidc !== undefined || config.oidcIssuers.length > 0 || config.google !== undefined) discovery = ', discovery document read'
  } catch (error) {
    report.problems.push(oneLine(error))
  }
  for (const id of configuredProviderIds(config)) report.found.push(['provider', `${id}: callback ${callbacks[id]}${['oidc', 'google', ...config.oidcIssuers.map(issuer => issuer.id)].includes(id) ? discovery : ''}`])
  if (config.devLogin) report.found.push(['provider', `dev: ${callbacks.dev}`])
  const unlink = unlinkSetup(config)
  for (const [id, url] of Object.entries(unlink.webhooks)) report.found.push(['unlink', `${id}: webhook ${url}`])
  for (const off of unlink.off) report.found.push(['unlink', off])
  report.found.push(...describeNativeApps(config))
  if (Object.keys(callbacks).length === 0) report.warnings.push(NO_PROVIDER_WARNING)
}

/** Native apps (docs/mobile.md): where a system-browser login may end, and whose SDK tokens POST /auth/:provider/token takes. */
function describeNativeApps (config: Readonly<Config>): Array<[string, string]> {
  const found: Array<[string, string]> = []
  if (config.nativeRedirectUris.length > 0) {
    found.push(['native', `app redirects ${config.nativeRedirectUris.map(({ uri, loopback }) => loopback ? `${uri} (any port)` : uri).join(', ')}`])
  }
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`
  const sdk: string[] = []
  if (config.kakao !== undefined) {
    const { nativeAppKeys, appId } = config.kakao
    const accepts = [
      ...(nativeAppKeys.length > 0 ? [`id_tokens for ${count(nativeAppKeys.length, 'app key')}`] : []),
      ...(appId !== undefined ? [`access tokens of app ${appId}`] : [])
    ]
    if (accepts.length > 0) sdk.push(`kakao (${accepts.join(', ')})`)
  }
  if (config.google !== undefined && config.google.nativeClientIds.length > 0) sdk.push(`google (id_tokens for ${count(config.google.nativeClientIds.length, 'client id')})`)
  if (config.apple !== undefined && config.apple.appIds.length > 0) sdk.push(`apple (identityTokens for ${config.apple.appIds.join(', ')})`)
  if (sdk.length > 0) found.push(['native', `SDK sign-in (POST /auth/:provider/token): ${sdk.join('; ')}`])
  return found
}
