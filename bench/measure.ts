import type { BenchCase } from './cases.js'
import type { ServerProcess } from './processes.js'
import { runLoad } from './processes.js'
import type { LoadResult, LoadSpec } from './protocol.js'

// One timed run of one case: pre-issue what it spends, open the server's CPU window, drive it with
// autocannon from another process, close the window.

export interface RunResult extends LoadResult {
  /** Server CPU (user + system) over the run, divided by the responses it sent. */
  cpuMicrosPerRequest: number
  serverPeakRssBytes: number
}

// Sizes the pool of single-use values from the best rate seen so far, with room to spare: a pool
// that runs dry would send used tokens, and measure the 401 path instead. A warm-up's rate (cold JIT,
// 1 s) is not a guide: it sized the first round's pool too small, and a quarter of the floor's first
// round went to used tokens.
const DEFAULT_RATE = 4000
const MIN_RATE = 1000
const HEADROOM = 2
const bestRate = new Map<string, number>()

export async function runCase (benchCase: BenchCase, server: ServerProcess, durationSeconds: number, connections: number, { warmup = false } = {}): Promise<RunResult> {
  const { request, seed } = benchCase
  let vary: LoadSpec['vary']
  if (seed !== undefined && request.varyIn !== undefined && request.varyName !== undefined) {
    const rate = Math.max(bestRate.get(benchCase.id) ?? DEFAULT_RATE, MIN_RATE)
    const count = seed.pool === 'fixed' ? Number.MAX_SAFE_INTEGER : Math.ceil(rate * HEADROOM * durationSeconds) + connections * 4
    const { values } = await server.command<'seeded'>({ type: 'seed', seed: seed.kind, count })
    const name = request.varyName === 'access' ? server.cookieNames.access : request.varyName === 'refresh' ? server.cookieNames.refresh : request.varyName
    vary = { in: request.varyIn, name, values }
  }
  await server.command({ type: 'cpu-start' })
  const load = await runLoad({ url: server.url, connections, durationSeconds, method: request.method, path: request.path, headers: request.headers, vary })
  const cpu = await server.command<'cpu'>({ type: 'cpu-stop' })
  if (!warmup) bestRate.set(benchCase.id, Math.max(bestRate.get(benchCase.id) ?? 0, load.reqPerSec))
  return {
    ...load,
    // Fixed pools (access tokens) are reused on purpose; only single-use pools can run dry.
    valuesLeft: seed?.pool === 'fixed' ? null : load.valuesLeft,
    cpuMicrosPerRequest: load.requests === 0 ? 0 : (cpu.userMicros + cpu.systemMicros) / load.requests,
    serverPeakRssBytes: cpu.maxRssBytes
  }
}
