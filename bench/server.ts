import { readFileSync } from 'node:fs'
import type { ServerCommand, ServerReady, ServerReply, ServerSpec } from './protocol.js'
import type { BenchServer } from './servers/bench-server.js'

// A server under test, alone in its process so that its CPU time and peak RSS are its own. The
// orchestrator sends commands over IPC; the CPU window brackets exactly one autocannon run.

const spec = JSON.parse(process.env.BENCH_SERVER_SPEC ?? '{}') as ServerSpec

// Imported on demand: a reference must not carry Prisma, PGlite and the app in its memory.
async function start (): Promise<BenchServer> {
  switch (spec.kind) {
    case 'ping': return (await import('./servers/references.js')).startPing()
    case 'jwt': return (await import('./servers/references.js')).startJwtReference({ cache: false })
    case 'jwt-cached': return (await import('./servers/references.js')).startJwtReference({ cache: true })
    case 'floor': return (await import('./servers/floor.js')).startFloor({ database: spec.database ?? 'postgres', databaseUrl: spec.databaseUrl, dataDir: spec.dataDir })
    case 'app': return (await import('./servers/app.js')).startApp({ database: spec.database ?? 'pglite', databaseUrl: spec.databaseUrl, dataDir: spec.dataDir })
  }
}

/**
 * Peak RSS of this process. VmHWM, not resourceUsage().maxRSS: on Linux ru_maxrss survives exec, so a
 * forked child would report its parent's (the orchestrator's) peak.
 */
function peakRssBytes (): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match !== null) return Number(match[1]) * 1024
  } catch {}
  return process.resourceUsage().maxRSS * 1024
}

const send = (message: ServerReply | ServerReady) => process.send?.(message)

const server = await start()
let closing: Promise<void> | undefined
const close = () => (closing ??= server.close())
let cpuAtStart = process.cpuUsage()

async function handle (command: ServerCommand): Promise<ServerReply> {
  switch (command.type) {
    case 'seed':
      return { id: command.id, type: 'seeded', values: await server.seed(command.seed, command.count) }
    case 'cpu-start':
      cpuAtStart = process.cpuUsage()
      return { id: command.id, type: 'cpu', userMicros: 0, systemMicros: 0, maxRssBytes: peakRssBytes() }
    case 'cpu-stop': {
      const { user, system } = process.cpuUsage(cpuAtStart)
      return { id: command.id, type: 'cpu', userMicros: user, systemMicros: system, maxRssBytes: peakRssBytes() }
    }
    case 'close':
      await close()
      return { id: command.id, type: 'closed' }
  }
}

process.on('message', (command: ServerCommand) => {
  handle(command).then(send, (error: Error) => send({ id: command.id, type: 'error', message: error.stack ?? error.message }))
    .then(() => { if (command.type === 'close') process.disconnect() })
})
// The orchestrator died or closed the channel: never outlive it.
process.on('disconnect', () => { close().finally(() => process.exit(0)).catch(() => {}) })
send({ type: 'ready', url: server.url, cookieNames: server.cookieNames })
