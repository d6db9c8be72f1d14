import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { databaseCases, REFERENCE_CASES, serverSpec, type BenchCase } from './cases.js'
import { compileBench } from './build.js'
import { renderChart } from './chart.js'
import { runCase, type RunResult } from './measure.js'
import { readOptions } from './options.js'
import { createThrowawayDatabase, type ThrowawayDatabase } from './postgres.js'
import { killChildren, startServer, type ServerProcess } from './processes.js'
import { addRatios, checkTargets, formatTable, machine, summarize, type BenchReport } from './report.js'
import { measureStartup, type StartupFailure, type StartupResult } from './startup.js'

// npm run bench: start every server, warm each case up, run all cases round after round (so that
// noise from a shared machine spreads over all of them), then report medians and ratios.

const options = readOptions()
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
const scratch = await mkdtemp(path.join(os.tmpdir(), 'handoff-bench-'))
let dataDirs = 0
const dirs = { dataDir: () => path.join(scratch, `pglite-${dataDirs++}`) }
const servers = new Map<string, ServerProcess>()
let postgres: ThrowawayDatabase | undefined

async function cleanUp (): Promise<void> {
  await Promise.allSettled([...servers.values()].map(server => server.stop()))
  killChildren()
  await postgres?.drop().catch(error => console.error(`could not drop the bench database: ${(error as Error).message}`))
  await rm(scratch, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`)
    cleanUp().finally(() => process.exit(130)).catch(() => {})
  })
}

const log = (line: string) => console.log(line)
const rate = (result: RunResult) => `${Math.round(result.reqPerSec).toLocaleString('en-US')} req/s, p99 ${result.p99Ms.toFixed(1)} ms, ${Math.round(result.cpuMicrosPerRequest)} µs CPU/req` +
  (result.requests - result.ok + result.errors > 0 ? `, ${result.requests - result.ok + result.errors} unexpected` : '')

/** The cases asked for (BENCH_ONLY), plus the references their ratios need. */
function selectCases (all: BenchCase[]): BenchCase[] {
  if (options.only.length === 0) return all
  const wanted = new Set(all.filter(c => options.only.some(prefix => c.id.startsWith(prefix))).map(c => c.id))
  for (const c of all) if (wanted.has(c.id) && c.reference !== undefined) wanted.add(c.reference)
  return all.filter(c => wanted.has(c.id))
}

/** The nickname route is being added; until it lands, its cases are skipped, not failed. */
async function probe (benchCase: BenchCase, server: ServerProcess): Promise<string | undefined> {
  if (benchCase.scenario !== 'availability') return undefined
  const response = await fetch(`${server.url}${benchCase.request.path}?nickname=probe_name`)
  if (response.status === 404) return `GET ${benchCase.request.path} answers 404: the route is not in this build yet`
  return undefined
}

async function main (): Promise<BenchReport> {
  const startedAt = new Date().toISOString()
  const machineAtStart = machine()
  log(`handoff bench: ${options.rounds} round(s) × ${options.durationSeconds} s per case, ${options.connections} connections`)
  const compileStarted = performance.now()
  await compileBench()
  log(`compiled src/ and bench/ in ${Math.round(performance.now() - compileStarted)} ms`)
  const all = [...REFERENCE_CASES]
  let postgresNote = 'not run (BENCH_DATABASE_URL=none)'
  if (options.databaseServerUrl !== null) {
    const made = await createThrowawayDatabase(options.databaseServerUrl)
    if ('skipped' in made) {
      postgresNote = `skipped: ${made.skipped}`
    } else {
      postgres = made
      postgresNote = `PostgreSQL ${made.serverVersion}, throwaway database on ${new URL(made.url).host}`
      all.push(...databaseCases('postgres'))
    }
  }
  log(`PostgreSQL: ${postgresNote}`)
  all.push(...databaseCases('pglite'))
  const cases = selectCases(all)

  for (const id of new Set(cases.map(c => c.server))) {
    const started = performance.now()
    servers.set(id, await startServer(serverSpec(id, dirs, postgres?.url)))
    log(`started ${id} in ${Math.round(performance.now() - started)} ms`)
  }
  const skipped = new Map<string, string>()
  for (const c of cases) {
    const reason = await probe(c, servers.get(c.server) as ServerProcess)
    if (reason !== undefined) { skipped.set(c.id, reason); log(`skip ${c.id}: ${reason}`) }
  }
  const active = cases.filter(c => !skipped.has(c.id))

  for (const c of active) {
    const result = await runCase(c, servers.get(c.server) as ServerProcess, options.warmupSeconds, options.connections, { warmup: true })
    log(`warm-up  ${c.id}: ${rate(result)}`)
  }
  const rounds = new Map<string, RunResult[]>(active.map(c => [c.id, []]))
  for (let round = 1; round <= options.rounds; round++) {
    for (const c of active) {
      const result = await runCase(c, servers.get(c.server) as ServerProcess, options.durationSeconds, options.connections)
      rounds.get(c.id)?.push(result)
      log(`round ${round}  ${c.id}: ${rate(result)}`)
    }
  }
  await Promise.all([...servers.values()].map(server => server.stop()))
  servers.clear()

  let startup: StartupResult | StartupFailure | undefined
  if (!options.skipStartup) {
    startup = await measureStartup()
    log('failed' in startup
      ? `start to ready (embedded): FAILED, ${startup.failed}`
      : `start to ready (embedded): ${Math.round(startup.freshMs)} ms on an empty DATA_DIR, ${Math.round(startup.restartMs)} ms on an existing one`)
  }

  const summaries = cases.map(c => summarize(c, rounds.get(c.id) ?? [], skipped.get(c.id)))
  addRatios(summaries)
  const { databaseServerUrl: _url, ...settings } = options
  return {
    date: startedAt,
    machine: machineAtStart,
    settings: { ...settings, postgres: postgresNote },
    startup,
    cases: summaries,
    targets: checkTargets(summaries, startup)
  }
}

try {
  const report = await main()
  log(`\n${formatTable(report.cases)}\n`)
  for (const check of report.targets) log(`${check.met ? 'met   ' : 'MISSED'}  ${check.target}: ${check.measured}`)
  await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
  await writeFile(path.join(resultsDir, 'latest.svg'), renderChart(report))
  log('\nwrote bench/results/latest.json and bench/results/latest.svg')
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await cleanUp()
}
