import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { exitWithin, freePort, startServer, stopServer } from './server-process.js'

// The server refuses to start on a bad setting or without its database: one line on stderr that
// names the problem, and a non-zero exit, never a stack trace or a half-started server.

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-startup-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))

async function failedStart (t: { teardown(fn: () => unknown): void }, env: Record<string, string>) {
  const server = await startServer({ DATA_DIR: dataDir, ...env }, { waitReady: false })
  t.teardown(() => stopServer(server))
  const started = Date.now()
  const { code } = await exitWithin(server)
  return { code, stderr: server.stderr().trim(), stdout: server.output(), seconds: (Date.now() - started) / 1000 }
}

t.test('a bad setting exits non-zero with one line naming it', async t => {
  const { code, stderr } = await failedStart(t, { JWT_SECRET: 'short' })
  t.not(code, 0)
  t.equal(stderr.split('\n').length, 1, 'one line')
  t.match(stderr, /^handoff: Invalid setting JWT_SECRET: /)
})

t.test('an unreachable database is retried for DATABASE_CONNECT_TIMEOUT_SECONDS, then the server exits non-zero', async t => {
  const closedPort = await freePort()
  const { code, stderr, stdout, seconds } = await failedStart(t, { DATABASE_URL: `postgresql://handoff:secret-password@127.0.0.1:${closedPort}/handoff`, DATABASE_CONNECT_TIMEOUT_SECONDS: '2' })
  t.not(code, 0)
  t.equal(stderr.split('\n').length, 1, 'one line')
  t.match(stderr, /^handoff: the database did not answer within 2 s \(DATABASE_CONNECT_TIMEOUT_SECONDS, \d+ attempts\): .*ECONNREFUSED/)
  t.notMatch(stderr + stdout, 'secret-password', 'the password is in no message')
  t.ok(stdout.includes('database not reachable yet: retrying'), 'each retry is logged')
  t.ok(seconds >= 1.5, `it kept trying (${seconds.toFixed(1)} s)`)
  t.ok(seconds < 30, 'and gave up in bounded time')
})

t.test('an OpenID Connect issuer that cannot be discovered at start: one line naming the setting', async t => {
  const closedPort = await freePort()
  const { code, stderr } = await failedStart(t, { OIDC_ISSUER: `http://127.0.0.1:${closedPort}`, OIDC_CLIENT_ID: 'client', OIDC_CLIENT_SECRET: 'secret', PROVIDER_TIMEOUT_MS: '500' })
  t.not(code, 0)
  t.equal(stderr.split('\n').length, 1, `one line: ${stderr.slice(0, 300)}`)
  t.match(stderr, /^handoff: Invalid setting OIDC_ISSUER: discovery failed/)
})

t.test('a port already in use: one line naming the address', async t => {
  const taken = net.createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => { taken.close() })
  const port = (taken.address() as net.AddressInfo).port
  // Debug logs on stdout: if closing ever hangs, exitWithin's message shows the last step reached.
  const server = await startServer({ DATA_DIR: await mkdtemp(path.join(dataDir, 'port-')), LOG_LEVEL: 'debug' }, { waitReady: false, port })
  t.teardown(() => stopServer(server))
  const { code } = await exitWithin(server)
  t.not(code, 0)
  t.match(server.stderr(), new RegExp(`^handoff: could not listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE[^\\n]*\\n$`))
})
