import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { CHILD_PROCESS_ENV } from '../helpers/child-env.js'
import { onPostgres } from '../helpers/database.js'
import { emptyPostgresDatabase } from '../helpers/empty-database.js'
import { freePort, startServer, stopServer } from './server-process.js'

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-start-line-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))

// Started, the server says in one line where it is: what to open, the database (never its
// password), each provider's callback URL to register, the frontend and the docs.

/** The parsed log lines of a server started with LOG_LEVEL=info, once it is ready. */
async function startedLines (t: { teardown(fn: () => unknown): void }, env: Record<string, string>) {
  const server = await startServer({ DATA_DIR: await mkdtemp(path.join(dataDir, 'run-')), LOG_LEVEL: 'info', ...env })
  t.teardown(() => stopServer(server))
  // The line follows the listening one: wait for it.
  for (let i = 0; i < 50 && !server.output().includes('ready at'); i++) await new Promise(resolve => setTimeout(resolve, 100))
  return { server, lines: server.output().trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>) }
}

t.test('the start line: version, database, providers with their callback URLs, frontend, docs', async t => {
  const { server, lines } = await startedLines(t, { GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'github-secret', ...(onPostgres ? { DATABASE_URL: await passwordUrl(t), MIGRATE_ON_START: 'true' } : {}) })
  const ready = lines.filter(line => typeof line.msg === 'string' && line.msg.includes(' ready at '))
  t.equal(ready.length, 1, 'one line')
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.match(ready[0], {
    msg: `handoff ${version} ready at ${server.origin}`,
    version,
    database: onPostgres ? /^PostgreSQL [^ ]+:\d+\/handoff_empty_\w+$/ : `embedded (PGlite) in ${dataDir}/run-`,
    providers: { github: `${server.origin}/auth/github/callback` },
    frontend: 'http://frontend.test/auth/done',
    docs: `${server.origin}/docs`
  })
  t.notMatch(server.output() + server.stderr(), /secret-password|github-secret/, 'no password, no client secret')
  t.notOk(lines.some(line => String(line.msg).startsWith('no login provider')), 'no warning: GitHub is enabled')
})

/** An empty PostgreSQL database whose URL carries a password (the test server trusts, and ignores it). */
async function passwordUrl (t: { teardown(fn: () => unknown): void }): Promise<string> {
  const url = new URL(await emptyPostgresDatabase(t) as string)
  url.password = 'secret-password'
  return url.toString()
}

t.test('Kakao and Naver: the unlink webhooks to register, and a line saying unlink on withdrawal is off without KAKAO_ADMIN_KEY', async t => {
  const { server } = await startedLines(t, { KAKAO_CLIENT_ID: 'kakao-rest-key', NAVER_CLIENT_ID: 'naver-id', NAVER_CLIENT_SECRET: 'naver-secret' })
  // Written just after the start line: wait for it too.
  for (let i = 0; i < 50 && !server.output().includes('KAKAO_ADMIN_KEY is not set'); i++) await new Promise(resolve => setTimeout(resolve, 100))
  const lines = server.output().trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>)
  t.match(lines.find(line => String(line.msg).includes(' ready at ')), { unlinkWebhooks: { naver: `${server.origin}/auth/naver/unlink` } })
  t.match(lines.find(line => String(line.msg).startsWith('kakao: KAKAO_ADMIN_KEY is not set')), { level: 30 }, 'said once, at info')
  t.notMatch(server.output(), /naver-secret/)
})

t.test('no login provider enabled: a warning that says how to enable one', async t => {
  const { lines } = await startedLines(t, onPostgres ? { DATABASE_URL: await passwordUrl(t), MIGRATE_ON_START: 'true' } : {})
  t.match(lines.find(line => line.level === 40 && String(line.msg).startsWith('no login provider')), { msg: /GITHUB_CLIENT_ID.*DEV_LOGIN=true/ })
})

t.test('at a terminal in development: readable lines, not JSON', async t => {
  // script(1) gives the server a terminal for its stdout, as a person running `npm start` has.
  // The marker names this server for the teardown: script(1) puts it in a session of its own, so
  // killing script leaves it running (a server per run, found still busy hours later).
  const marker = `handoff-tty-test-${process.pid}-${Date.now()}`
  const command = [process.execPath, '--import', 'tsx', 'src/server.ts', marker].join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { PATH: process.env.PATH, ...CHILD_PROCESS_ENV, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: await mkdtemp(path.join(dataDir, 'tty-')), LOG_LEVEL: 'info', TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  t.teardown(() => {
    child.kill('SIGKILL')
    spawnSync('pkill', ['-KILL', '-f', marker])
  })
  let output = ''
  child.stdout.on('data', chunk => { output += chunk })
  for (let i = 0; i < 900 && !output.includes('ready at'); i++) await new Promise(resolve => setTimeout(resolve, 100))
  t.match(output, /\[\d\d:\d\d:\d\d\.\d{3}\] [^\n]*INFO[^\n]*: handoff \S+ ready at http:\/\/localhost:\d+/, output.slice(0, 500))
  t.notMatch(output, '{"level"', 'no JSON line')
})
