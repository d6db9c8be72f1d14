import { parseArgs } from 'node:util'
import { oneLine } from './one-line.js'
import { packageVersion } from './version.js'

// `handoff` (the package's bin, `npm start`): without a command it starts the server, with one it
// runs it and exits. Each failure is one line on stderr and exit code 1.

const HELP = `Usage: handoff [command]

Commands:
  (none)                           start the server
  migrate                          apply pending migrations to DATABASE_URL (or the embedded database in DATA_DIR), then exit
  check                            load the settings, reach the database and each provider's discovery document, report what was found
  keygen [--alg HS256|ES256|EdDSA] print a new signing secret (HS256, the default) or key pair, as settings for .env

Options:
  -h, --help     print this help
  -v, --version  print the version

Settings come from the environment, then a .env file in the current directory (see .env.example).
Docs: README.md and docs/deployment.md in the package.`

function fail (message: string): void {
  console.error(`handoff: ${message}`)
  process.exitCode = 1
}

async function main (argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      alg: { type: 'string' }
    }
  })
  if (values.help === true) return console.log(HELP)
  if (values.version === true) return console.log(packageVersion())
  const [command, ...extra] = positionals
  if (extra.length > 0) return fail(`unexpected argument "${extra[0]}" (handoff --help lists the commands)`)
  if (values.alg !== undefined && command !== 'keygen') return fail('--alg goes with keygen only')

  switch (command) {
    case undefined:
      // The server module starts on import (it is also `npm run dev`'s entry).
      await import('../server.js')
      return
    case 'migrate': {
      const { migrateCommand } = await import('./migrate.js')
      return migrateCommand()
    }
    case 'check': {
      const { checkCommand } = await import('./check.js')
      return checkCommand()
    }
    case 'keygen': {
      const { keygenCommand } = await import('./keygen.js')
      return keygenCommand(values.alg)
    }
    default:
      return fail(`unknown command "${command}" (handoff --help lists the commands)`)
  }
}

try {
  await main(process.argv.slice(2))
} catch (error) {
  // A bad setting, parseArgs' usage errors, a command's own failure: each says what went wrong.
  fail(oneLine(error))
}
