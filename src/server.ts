import type { PGlite } from '@electric-sql/pglite'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { describeDatabase, docsUrl, NO_PROVIDER_WARNING, providerCallbacks, unlinkSetup } from './cli/describe.js'
import { oneLine } from './cli/one-line.js'
import { packageVersion } from './cli/version.js'
import { ConfigError, loadConfig } from './config.js'
import { databaseTarget, DatabaseUnreachableError } from './db/database.js'
import { createPglite } from './db/pglite.js'
import { prettyLogStream } from './logger.js'

// The process: settings, app, listen, graceful shutdown. Everything else lives in buildApp.
// `handoff` with no command (src/cli/main.ts) imports this module; `npm run dev` runs it directly.

/** How long a shutdown may take: a graceful one lets requests finish; a failed start only closes. */
const SHUTDOWN_GRACE_MS = 10_000

/**
 * A start that failed must end the process: closing what did open (the database, the grant
 * revocation pass the app's onReady began) gets the grace a shutdown gets, then exit(1) regardless.
 * Not unref'd: a close stuck on a promise with nothing else pending would otherwise end the
 * process with Node's own exit code 13 and warning, not this line.
 */
function exitWithinGraceIfCloseHangs (): void {
  setTimeout(() => {
    console.error(`handoff: closing after the failed start took over ${SHUTDOWN_GRACE_MS / 1000} s; exiting`)
    process.exit(1)
  }, SHUTDOWN_GRACE_MS)
}

let config
try {
  config = loadConfig(process.env, { dotenv: true })
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`handoff: ${error.message}`)
  process.exit(1)
}

// The embedded database is opened before the app's modules load, so that its asynchronous steps
// (reading and compiling its WebAssembly, copying the seed on a first start) interleave with theirs.
const target = databaseTarget(config)
const opening = target.kind === 'pglite' ? createPglite(target.dataDir) : undefined
opening?.catch(() => {}) // awaited below; a failure must not count as unhandled in the meantime
let embedded: PGlite | undefined

let app: FastifyInstance
try {
  const [{ buildApp }, logStream] = await Promise.all([import('./app.js'), prettyLogStream(config)])
  embedded = await opening
  app = await buildApp({ config, logStream, database: embedded === undefined ? undefined : { kind: 'pglite', instance: embedded } })
} catch (error) {
  exitWithinGraceIfCloseHangs()
  await embedded?.close()
  // A setting only checked while building (OIDC discovery) or an unreachable database: one line.
  const known = error instanceof ConfigError || error instanceof DatabaseUnreachableError
  console.error(`handoff: ${known ? (error as Error).message : `could not start: ${oneLine(error)}`}`)
  // The stack, for a bug of ours, when asked for.
  if (!known && (config.logLevel === 'debug' || config.logLevel === 'trace')) console.error((error as Error).stack)
  process.exit(1)
}

closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  // close() stops accepting and ends idle keep-alive connections once; a connection busy with a
  // request at that moment would stay open after its reply, until the client's keep-alive ends.
  // Ending each as soon as it goes idle lets in-flight requests finish, then the process exit.
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100)
  try {
    await app.close()
  } finally {
    clearInterval(sweep)
    await embedded?.close()
  }
})

try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  // A port in use, a HOST that is not this machine's: one line, as for every other failed start.
  console.error(`handoff: could not listen on ${config.host}:${config.port}: ${oneLine(error)}`)
  exitWithinGraceIfCloseHangs()
  await app.close()
  await embedded?.close()
  process.exit(1)
}

// Where this server is, in one line: the URL to open (a login started on another host name of this
// machine loses its cookies), what it runs on, and what to register with each provider.
const providers = providerCallbacks(config)
const unlink = unlinkSetup(config)
app.log.info({
  version: packageVersion(),
  database: describeDatabase(config),
  providers,
  ...(Object.keys(unlink.webhooks).length === 0 ? {} : { unlinkWebhooks: unlink.webhooks }),
  frontend: config.frontendUrl,
  docs: docsUrl(config)
}, `handoff ${packageVersion()} ready at ${config.publicUrl}`)
if (Object.keys(providers).length === 0) app.log.warn(NO_PROVIDER_WARNING)
for (const off of unlink.off) app.log.info(off)
