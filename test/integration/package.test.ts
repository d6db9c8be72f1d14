import { execFile, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { onPostgres } from '../helpers/database.js'

// The package as a user gets it: `npm pack`, installed into a fresh project from the registry
// (npm's cache makes that about 20 s), then the own-routes example and `handoff` (the bin) started
// from it. About a minute in all; it tests packaging, not the database, so the PostgreSQL pass skips it.

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

/** Starts a server process and resolves with its address once it logs that it listens. */
function start (t: Tap, command: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  const child = spawn(command, args, { cwd, env: { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill() })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${output}`)), 30_000)
    const onData = (chunk: Buffer) => {
      output += String(chunk)
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
      if (address !== undefined) { clearTimeout(timer); resolve(address) }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`${command} exited with ${code}:\n${output}`)) })
  })
}
type Tap = { teardown(fn: () => unknown): void }

t.test('npm pack installs into a fresh project, which runs the plugin example and the bin', { skip: onPostgres && 'packaging does not depend on the database' }, async t => {
  const dir = t.testdir({ app: { 'package.json': JSON.stringify({ name: 'fresh', private: true, type: 'module' }) } })
  const app = path.join(dir, 'app')
  // What prepack does, minus `prisma generate`: regenerating src/generated/prisma while other test
  // files load it could hand them a half-written file.
  await run('npm', ['run', 'build'], { cwd: root })
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root })
  const [{ filename, files }] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  const packed = files.map(file => file.path)
  for (const expected of ['bin/handoff.js', 'dist/index.js', 'dist/index.d.ts', 'dist/server.js', 'dist/generated/prisma/client.js', 'prisma/migrations/migration_lock.toml', 'prisma/pglite-seed.tar.gz']) {
    t.ok(packed.includes(expected), `the tarball has ${expected}`)
  }
  t.notOk(packed.some(file => file.startsWith('src/') || file.startsWith('test/')), 'no sources or tests')

  await run('npm', ['install', path.join(dir, filename), '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app })

  // The example, importing the package by its name as a user would.
  const example = await readFile(path.join(root, 'examples/own-routes/app.ts'), 'utf8')
  await writeFile(path.join(app, 'app.ts'), example.replace('\'../../src/index.js\'', '\'handoff\''))
  await writeFile(path.join(app, 'server.ts'), await readFile(path.join(root, 'examples/own-routes/server.ts')))
  const plugin = await start(t, process.execPath, ['--import', 'tsx', 'server.ts'], app, { DATA_DIR: path.join(dir, 'plugin-data') })
  const notes = await fetch(`${plugin}/api/notes`)
  t.equal(notes.status, 401)
  t.equal((await notes.json() as { code: string }).code, 'not_authenticated', 'the protected route answers with our error code')
  t.equal((await fetch(`${plugin}/health`)).status, 200, 'migrated from the packaged prisma/migrations, queried through the packaged Prisma client')

  // The bin runs dist/server.js, bundled by `npm run build` with some packages left outside: the
  // routes that need those packages' own files must work from the installed package.
  const bundle = await readFile(path.join(app, 'node_modules/handoff/dist/server.js'), 'utf8')
  t.notMatch(bundle, /^import .* from ["']\.{1,2}\//m, 'the standalone server is one module: none of its own files imported')
  const server = await start(t, path.join(app, 'node_modules/.bin/handoff'), [], app, { DATA_DIR: path.join(dir, 'server-data') })
  t.equal((await fetch(`${server}/health`)).status, 200, 'node_modules/.bin/handoff starts the standalone server, migrated from the seed')
  t.equal((await fetch(`${server}/docs/json`)).status, 200, 'the OpenAPI document (@fastify/swagger)')
  t.equal((await fetch(`${server}/docs/static/swagger-ui-bundle.js`)).status, 200, 'Swagger UI\'s assets, read from its own package')
  t.same(await (await fetch(`${server}/auth/providers`)).json(), { providers: [] })
})
