import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// `npm run bench:start`: how long `npm start` takes from the command to a 200 from /health, on the
// embedded database, as a person runs it in a clone after `npm run build`: once on an empty DATA_DIR,
// then RESTARTS times on the same one (every later start). It fails if the median restart is not
// under TARGET_MS, or if a start rebuilt anything (dist/cli.js changed). A measurement, kept out of
// the test suite: a timed test would fail on a busy machine for no fault of the code.

const TARGET_MS = 1500
const RESTARTS = 5
const root = fileURLToPath(new URL('../', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => resolve(port))
  }).on('error', reject)
})

/**
 * CPU time (ms) of each process's main thread in the tree under `pid` (Linux; empty elsewhere). On a
 * busy machine the wall time says little; the main threads run one after the other (npm, its shell,
 * the server), so their sum is about what an idle machine would take.
 */
async function mainThreadCpu (pid: number): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const visit = async (id: number): Promise<void> => {
    const stat = await readFile(`/proc/${id}/task/${id}/stat`, 'utf8').catch(() => '')
    if (stat === '') return
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ms = (Number(fields[11]) + Number(fields[12])) * 1000 / 100 // clock ticks, USER_HZ = 100
    found.set(`${name} ${id}`, ms)
    const children = await readFile(`/proc/${id}/task/${id}/children`, 'utf8').catch(() => '')
    for (const child of children.split(' ').filter(Boolean)) await visit(Number(child))
  }
  await visit(pid)
  return found
}

async function timeStart (dataDir: string): Promise<{ wall: number, cpu: number }> {
  const port = await freePort()
  const { DATABASE_URL: _unused, ...env } = process.env
  const started = performance.now()
  // Its own process group: npm, its shell and the server stop together.
  const child = spawn(npm, ['start'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...env, NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' }
  })
  let stderr = ''
  child.stderr?.on('data', chunk => { stderr += chunk })
  const exited = once(child, 'exit')
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${stderr.trim()}`)
      if (await fetch(`http://127.0.0.1:${port}/health`).then(res => res.status === 200, () => false)) {
        const wall = performance.now() - started
        const cpu = [...(await mainThreadCpu(child.pid as number)).values()].reduce((sum, ms) => sum + ms, 0)
        return { wall, cpu }
      }
      if (performance.now() - started > 60_000) throw new Error('not ready within 60 s')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  } finally {
    process.kill(-(child.pid as number), 'SIGTERM')
    await exited
  }
}

const built = async () => (await stat(path.join(root, 'dist/cli.js'))).mtimeMs
const before = await built().catch(() => { throw new Error('dist/cli.js is missing: run `npm run build` first') })
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-start-'))
try {
  const fresh = await timeStart(dataDir)
  const restarts: Array<{ wall: number, cpu: number }> = []
  for (let i = 0; i < RESTARTS; i++) restarts.push(await timeStart(dataDir))
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const wall = median(restarts.map(start => start.wall))
  const rebuilt = await built() !== before
  console.log(`npm start to ready (Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores):`)
  console.log(`  empty DATA_DIR ${Math.round(fresh.wall)} ms; existing DATA_DIR median ${Math.round(wall)} ms of ${restarts.map(start => Math.round(start.wall)).join(', ')} (target < ${TARGET_MS} ms)`)
  console.log(`  main threads' CPU (npm, shell, server) to ready on an existing DATA_DIR: median ${Math.round(median(restarts.map(start => start.cpu)))} ms`)
  if (rebuilt) console.log('  dist/cli.js was rebuilt by a start')
  if (wall >= TARGET_MS || rebuilt) process.exitCode = 1
} finally {
  await rm(dataDir, { recursive: true, force: true })
}
