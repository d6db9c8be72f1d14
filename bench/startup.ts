import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { bundledServer } from './build.js'
import { BENCH_JWT_SECRET, BENCH_PUBLIC_URL } from './servers/bench-server.js'

// Start to ready: the real entry point (src/server.ts bundled, as `npm start` runs it) on the
// embedded database, timed from spawn until GET /health answers 200. First on an empty DATA_DIR,
// then again on the same directory, which is every later start of a deployed instance; three times.

export interface StartupResult { freshMs: number, restartMs: number, peakRssBytes: number | null }
export interface StartupFailure { failed: string }

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => resolve(port))
  }).on('error', reject)
})

/** VmHWM: the peak resident set of a live process (Linux; null elsewhere). */
async function peakRss (pid: number): Promise<number | null> {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return match === null ? null : Number(match[1]) * 1024
  } catch {
    return null
  }
}

async function timeStart (dataDir: string): Promise<{ ms: number, peakRssBytes: number | null }> {
  const port = await freePort()
  // The embedded database: no DATABASE_URL, whatever the caller's environment says.
  const { DATABASE_URL: _ignored, ...env } = process.env
  const started = performance.now()
  const child = spawn(process.execPath, [bundledServer], {
    // Not the checkout: a .env there must not change what is measured.
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, NODE_ENV: 'production', JWT_SECRET: BENCH_JWT_SECRET, PUBLIC_URL: BENCH_PUBLIC_URL, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' }
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  // The last output lines say why a start failed (a bad setting, a plugin timeout).
  let tail = ''
  const keep = (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-600) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before it was ready: ${tail.trim()}`)
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(res => res.status === 200, () => false)
      if (ok) break
      if (performance.now() - started > 60_000) throw new Error('the server was not ready within 60 s')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    return { ms: performance.now() - started, peakRssBytes: await peakRss(child.pid as number) }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

const STARTS = 3
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Medians of three fresh directories, each started empty and then again. */
export async function measureStartup (): Promise<StartupResult | StartupFailure> {
  const fresh: number[] = []
  const restart: number[] = []
  const peaks: number[] = []
  for (let i = 0; i < STARTS; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-bench-start-'))
    try {
      const first = await timeStart(dataDir)
      const again = await timeStart(dataDir)
      fresh.push(first.ms)
      restart.push(again.ms)
      for (const { peakRssBytes } of [first, again]) if (peakRssBytes !== null) peaks.push(peakRssBytes)
    } catch (error) {
      return { failed: (error as Error).message }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }
  return { freshMs: median(fresh), restartMs: median(restart), peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : null }
}
