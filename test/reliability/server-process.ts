import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { CHILD_PROCESS_ENV } from '../helpers/child-env.js'
import { Browser } from '../helpers/cookies.js'
import { TEST_JWT_SECRET } from '../helpers/build-app.js'

// The real server process (src/server.ts), as `npm start` runs it, for shutdown, crash, restart and
// startup tests. Node runs tsx as a loader in the same process, so signals reach the server itself.

const root = fileURLToPath(new URL('../../', import.meta.url))

/** A port nothing listens on right now (the server cannot report one it chose for PORT=0). */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

export interface ServerProcess {
  child: ChildProcess
  origin: string
  output: () => string
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Spawns the server; resolves once it answers /health, or rejects with its output if it exits. */
export async function startServer (env: Record<string, string>, { waitReady = true, timeoutMs = 90_000, port = 0 } = {}): Promise<ServerProcess> {
  // A restart keeps its port: PUBLIC_URL, and so the tokens' issuer, stays the same.
  port ||= await freePort()
  const origin = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...CHILD_PROCESS_ENV,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: origin,
      FRONTEND_URL: 'http://frontend.test/auth/done',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', chunk => { out += chunk })
  child.stderr?.on('data', chunk => { err += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  const server = { child, origin, output: () => out, stderr: () => err, exited }
  if (!waitReady) return server
  const deadline = Date.now() + timeoutMs
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    try {
      if ((await fetch(`${origin}/health`)).status === 200) return server
    } catch {}
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  throw new Error(`the server did not become ready: ${out}\n${err}`)
}

/**
 * The process's exit, for a process expected to end on its own; one still running after `ms` is
 * killed and the wait rejects with what it printed, so a hang fails its own test with the output
 * instead of the whole file running into tap's timeout.
 */
export async function exitWithin (server: ServerProcess, ms = 60_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      server.child.kill('SIGKILL')
      reject(new Error(`the server was still running after ${ms / 1000} s:\n${server.output()}\n${server.stderr()}`))
    }, ms)
  })
  try {
    return await Promise.race([server.exited, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** Kills the process if a test left it running. */
export function stopServer (server: ServerProcess): Promise<unknown> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  return server.exited
}

/** fetch as one browser: its cookies go out, the replies' cookies come back in; never follows redirects. */
export async function request (server: { origin: string }, browser: Browser, path: string, init: { method?: string, json?: unknown, form?: Record<string, string> } = {}): Promise<Response> {
  const url = new URL(path, server.origin).toString()
  const headers: Record<string, string> = { cookie: await browser.cookieHeader(url), 'x-requested-with': 'fetch' }
  let body: string | undefined
  if (init.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(init.json) }
  if (init.form !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(init.form).toString() }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' })
  await browser.store(url, response)
  return response
}

/** A dev-provider login over HTTP up to the handoff: the one-time code for identity `id`. */
export async function devLoginCode (server: { origin: string }, browser: Browser, id: string): Promise<string> {
  const form = await (await request(server, browser, '/auth/dev/login')).text()
  const state = /name="state" value="([^"]+)"/.exec(form)?.[1]
  if (state === undefined) throw new Error('no state in the dev login form')
  const callback = await request(server, browser, '/auth/dev/callback', { form: { state, decision: 'allow', id, nickname: id, name: id, email: '' } })
  const location = new URL(String(callback.headers.get('location')))
  const code = new URLSearchParams(location.hash.slice(1)).get('code')
  if (code === null) throw new Error(`dev login ended at ${location}`)
  return code
}

/** A first login through the dev provider to a signed-in browser with nickname `id`. */
export async function devSignUp (server: { origin: string }, id: string): Promise<Browser> {
  const browser = new Browser(server.origin)
  const code = await devLoginCode(server, browser, id)
  const exchange = await request(server, browser, '/auth/exchange', { json: { code } })
  if ((await exchange.json() as { status?: string }).status !== 'signup_required') throw new Error('expected a first login')
  const signup = await request(server, browser, '/auth/signup', { json: { nickname: id } })
  if (signup.status !== 201) throw new Error(`signup answered ${signup.status}: ${await signup.text()}`)
  return browser
}
