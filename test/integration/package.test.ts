import { execFile, spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { CHILD_PROCESS_ENV } from '../helpers/child-env.js'
import { onPostgres } from '../helpers/database.js'
import { emptyPostgresDatabase } from '../helpers/empty-database.js'

// The package as a user gets it: `npm pack`, then installed into a fresh project with the production
// install of the Dockerfile and the README (runtime dependencies only), and `handoff` started from it
// on an empty PostgreSQL database with MIGRATE_ON_START=true, then on the embedded database; the
// own-routes example imports it by name. It needs a PostgreSQL server, so it runs in the PostgreSQL
// pass; about a minute, most of it npm installing from its cache.

// npm installing, three starts and a build: well within the suite's 120 s per file on its own, not
// always beside other test files on a busy 2-core machine.
t.setTimeout(300_000)

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The production install, word for word in the Dockerfile and the README: a fresh project, the
 * install script of @prisma/client declined (it generates a client that handoff does not use), then
 * handoff with its runtime dependencies only. The test adds --prefer-offline: npm's cache, not the
 * registry, when it can.
 */
const INSTALL = [
  'npm init -y',
  "npm pkg set 'allowScripts.@prisma/client=false' --json",
  'npm install --omit=dev --no-audit --no-fund'
]

/** Starts a server process and resolves with its address once it logs that it listens. */
function start (t: Tap, command: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ address: string, output: () => string }> {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, ...CHILD_PROCESS_ENV, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill() })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += String(chunk)
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)[^\d]/.exec(output)?.[1] // the whole port, not a chunk's first digits
      if (address !== undefined) { clearTimeout(timer); resolve({ address, output: () => output }) }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`${command} exited with ${code}:\n${output}`)) })
  })
}
type Tap = { teardown(fn: () => unknown): void }

/** Bytes under `dir`, as `du` counts files. */
async function sizeOf (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size
  }
  return total
}

t.test('npm pack, installed with --omit=dev into a fresh project, runs handoff on PostgreSQL and the embedded database', { skip: !onPostgres && 'runs in the PostgreSQL pass (TEST_DATABASE_URL): it starts the package on an empty PostgreSQL database' }, async t => {
  const dir = t.testdir({ app: {} })
  const app = path.join(dir, 'app')
  // What prepack does, minus `prisma generate`: regenerating src/generated/prisma while other test
  // files load it could hand them a half-written file.
  await run('npm', ['run', 'build'], { cwd: root })
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root })
  const [{ filename, files }] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  const packed = files.map(file => file.path)
  for (const expected of ['bin/handoff.js', 'dist/cli.js', 'dist/server.js', 'dist/index.js', 'dist/index.d.ts', 'dist/generated/prisma/client.js', 'prisma/migrations/migration_lock.toml', 'prisma/pglite-seed.tar.gz']) {
    t.ok(packed.includes(expected), `the tarball has ${expected}`)
  }
  t.notOk(packed.some(file => file.startsWith('src/') || file.startsWith('test/') || file.startsWith('scripts/')), 'no sources, tests or build scripts')

  // The same commands as the Dockerfile's and the README's production install.
  const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8')
  const readme = await readFile(path.join(root, 'README.md'), 'utf8')
  for (const command of INSTALL) {
    t.ok(dockerfile.includes(command), `the Dockerfile runs ${command}`)
    t.ok(readme.includes(command), `the README shows ${command}`)
  }
  for (const command of INSTALL.slice(0, -1)) await run('sh', ['-c', command], { cwd: app })
  await run('sh', ['-c', `${INSTALL.at(-1)} --prefer-offline ${path.join(dir, filename)}`], { cwd: app })

  const modules = path.join(app, 'node_modules')
  const installed = await readdir(modules)
  for (const devOnly of ['prisma', 'tsx', 'typescript', 'esbuild', 'tap']) t.notOk(installed.includes(devOnly), `${devOnly} is not installed`)
  const megabytes = (await sizeOf(modules)) / 1e6
  t.comment(`installed size (node_modules of the fresh project): ${megabytes.toFixed(0)} MB in ${installed.length} top-level entries`)
  t.ok(megabytes < 200, `the production install stays small (${megabytes.toFixed(0)} MB)`)

  // `npx handoff`, as the README says, with nothing else installed.
  const { stdout: version } = await run('npx', ['handoff', '--version'], { cwd: app })
  t.equal(version.trim(), (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version)
  const { stdout: keygen } = await run('npx', ['handoff', 'keygen', '--alg', 'HS256'], { cwd: app })
  const secret = /^JWT_SECRET=(\S+)$/m.exec(keygen)?.[1] as string

  // Production on an empty PostgreSQL database: checked, then migrated by the start itself.
  const bin = path.join(modules, '.bin/handoff')
  const production = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://auth.example.test',
    FRONTEND_URL: 'https://app.example.test/auth/done',
    JWT_SECRET: secret,
    DATABASE_URL: await emptyPostgresDatabase(t) as string,
    MIGRATE_ON_START: 'true'
  }
  const env = { PATH: process.env.PATH as string, ...production }
  const check = await run(bin, ['check'], { cwd: app, env })
  t.match(check.stdout, /database +PostgreSQL .*, reached, 0 migrations applied, \d+ pending/, 'check: reached, nothing applied yet')
  t.match(check.stdout, /warning: no login provider is enabled/)
  const server = await start(t, bin, [], app, production)
  t.equal((await fetch(`${server.address}/health`)).status, 200, 'migrated at start, from the packaged prisma/migrations, queried through the packaged Prisma client')
  t.equal((await fetch(`${server.address}/docs/json`)).status, 200, 'the OpenAPI document (@fastify/swagger)')
  t.equal((await fetch(`${server.address}/docs/static/swagger-ui-bundle.js`)).status, 200, 'Swagger UI\'s assets, read from its own package')
  t.same(await (await fetch(`${server.address}/auth/providers`)).json(), { providers: [] })
  t.match(server.output(), /"msg":"handoff [^"]+ ready at https:\/\/auth\.example\.test"/, 'the start line, as JSON: not a terminal')
  const migrate = await run(bin, ['migrate'], { cwd: app, env })
  t.match(migrate.stdout, /: up to date\n$/, 'handoff migrate finds nothing left to do')

  // The embedded database, from the packaged seed.
  const embedded = await start(t, bin, [], app, { DATA_DIR: path.join(dir, 'server-data') })
  t.equal((await fetch(`${embedded.address}/health`)).status, 200, 'the embedded database, copied from the packaged seed')

  // The example, importing the package by its name as a user would (run by the checkout's tsx): an
  // ES module app, where `npm init -y` made a CommonJS one.
  await run('npm', ['pkg', 'set', 'type=module'], { cwd: app })
  const example = await readFile(path.join(root, 'examples/own-routes/app.ts'), 'utf8')
  await writeFile(path.join(app, 'app.ts'), example.replace('\'../../src/index.js\'', '\'handoff\''))
  await writeFile(path.join(app, 'server.ts'), await readFile(path.join(root, 'examples/own-routes/server.ts')))
  const plugin = await start(t, process.execPath, ['--import', import.meta.resolve('tsx'), 'server.ts'], app, { NODE_ENV: 'development', DATA_DIR: path.join(dir, 'plugin-data') })
  const notes = await fetch(`${plugin.address}/api/notes`)
  t.equal(notes.status, 401)
  t.equal((await notes.json() as { code: string }).code, 'not_authenticated', 'the protected route answers with our error code')
})
