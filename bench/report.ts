import os from 'node:os'
import type { BenchCase } from './cases.js'
import type { RunResult } from './measure.js'
import type { BenchOptions } from './options.js'
import type { StartupFailure, StartupResult } from './startup.js'

// Medians over rounds, ratios to the reference measured in the same run, the issue's targets.

export interface CaseSummary {
  id: string
  label: string
  scenario: string
  database?: string
  reference?: string
  skipped?: string
  rounds: RunResult[]
  median?: { reqPerSec: number, p50Ms: number, p99Ms: number, cpuMicrosPerRequest: number }
  peakRssBytes?: number
  /** This case's median req/s (and p99) over its reference's. */
  ratio?: { reqPerSec: number, p99: number }
  /** Responses by status over all rounds. */
  statusCounts: Record<string, number>
  warnings: string[]
}

export interface TargetCheck { target: string, measured: string, met: boolean }

export interface BenchReport {
  date: string
  machine: { cpus: number, cpuModel: string, node: string, platform: string, memoryGiB: number, loadAverageAtStart: number[] }
  settings: Omit<BenchOptions, 'databaseServerUrl'> & { postgres: string }
  startup?: StartupResult | StartupFailure
  cases: CaseSummary[]
  targets: TargetCheck[]
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function summarize (benchCase: BenchCase, rounds: RunResult[], skipped?: string): CaseSummary {
  const summary: CaseSummary = {
    id: benchCase.id, label: benchCase.label, scenario: benchCase.scenario, database: benchCase.database, reference: benchCase.reference, skipped, rounds, statusCounts: {}, warnings: []
  }
  if (rounds.length === 0) return summary
  summary.median = {
    reqPerSec: median(rounds.map(round => round.reqPerSec)),
    p50Ms: median(rounds.map(round => round.p50Ms)),
    p99Ms: median(rounds.map(round => round.p99Ms)),
    cpuMicrosPerRequest: median(rounds.map(round => round.cpuMicrosPerRequest))
  }
  summary.peakRssBytes = Math.max(...rounds.map(round => round.serverPeakRssBytes))
  const total = rounds.reduce((sum, round) => sum + round.requests, 0)
  const failed = rounds.reduce((sum, round) => sum + round.requests - round.ok + round.errors, 0)
  if (failed > 0) summary.warnings.push(`${failed} of ${total} responses were not 2xx (or failed)`)
  for (const round of rounds) {
    for (const [status, count] of Object.entries(round.statusCounts)) summary.statusCounts[status] = (summary.statusCounts[status] ?? 0) + count
  }
  if (rounds.some(round => round.valuesLeft === 0)) summary.warnings.push('the pre-issued pool ran dry: raise the pool headroom')
  return summary
}

export function addRatios (cases: CaseSummary[]): void {
  const byId = new Map(cases.map(summary => [summary.id, summary]))
  for (const summary of cases) {
    const reference = summary.reference === undefined ? undefined : byId.get(summary.reference)
    if (summary.median === undefined || reference?.median === undefined) continue
    summary.ratio = { reqPerSec: summary.median.reqPerSec / reference.median.reqPerSec, p99: summary.median.p99Ms / reference.median.p99Ms }
  }
}

const percent = (ratio: number) => `${Math.round(ratio * 100)} %`
const MB = 1024 * 1024

/** The issue's targets, each with what this run measured. */
export function checkTargets (cases: CaseSummary[], startup?: StartupResult | StartupFailure): TargetCheck[] {
  const checks: TargetCheck[] = []
  const byId = new Map(cases.map(summary => [summary.id, summary]))
  for (const id of ['me-postgres', 'me-pglite']) {
    const ratio = byId.get(id)?.ratio
    if (ratio !== undefined) checks.push({ target: `${id} ≥ 90 % of the @fastify/jwt reference's req/s`, measured: percent(ratio.reqPerSec), met: ratio.reqPerSec >= 0.9 })
  }
  for (const id of ['refresh-postgres', 'exchange-postgres']) {
    const ratio = byId.get(id)?.ratio
    if (ratio === undefined) continue
    checks.push({ target: `${id} ≥ 70 % of the node-postgres floor's req/s`, measured: percent(ratio.reqPerSec), met: ratio.reqPerSec >= 0.7 })
    checks.push({ target: `${id} p99 ≤ 1.5 × the floor's`, measured: `${ratio.p99.toFixed(2)} ×`, met: ratio.p99 <= 1.5 })
  }
  if (startup !== undefined && 'failed' in startup) {
    checks.push({ target: 'start to ready < 2 s (embedded)', measured: `did not start: ${startup.failed.split('\n')[0]}`, met: false })
  } else if (startup !== undefined) {
    checks.push({ target: 'start to ready < 2 s, empty DATA_DIR (embedded)', measured: `${(startup.freshMs / 1000).toFixed(2)} s`, met: startup.freshMs < 2000 })
    checks.push({ target: 'start to ready < 1.5 s, existing DATA_DIR (embedded)', measured: `${(startup.restartMs / 1000).toFixed(2)} s`, met: startup.restartMs < 1500 })
  }
  // Every handoff process: the app servers of the cases (from the moment they start, seeding
  // included) and, on the embedded database, the real entry point's starts.
  const appPeak = (database: string) => cases.filter(summary => summary.database === database && !summary.id.startsWith('floor-')).map(summary => summary.peakRssBytes ?? 0)
  const startPeak = startup !== undefined && !('failed' in startup) && startup.peakRssBytes !== null ? [startup.peakRssBytes] : []
  for (const [database, peaks] of [['PostgreSQL', appPeak('postgres')], ['embedded', [...appPeak('pglite'), ...startPeak]]] as const) {
    if (peaks.length === 0) continue
    const peak = Math.max(...peaks)
    checks.push({ target: `peak RSS of a handoff process < 200 MB during the suite (${database})`, measured: `${Math.round(peak / MB)} MB`, met: peak < 200 * MB })
  }
  return checks
}

export function machine (): BenchReport['machine'] {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    loadAverageAtStart: os.loadavg().map(load => Math.round(load * 100) / 100)
  }
}

/** The console table: one line per case. */
export function formatTable (cases: CaseSummary[]): string {
  const rows = [['case', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MB', 'vs reference, notes']]
  for (const summary of cases) {
    if (summary.median === undefined) {
      rows.push([summary.id, summary.skipped ?? 'no result', '', '', '', '', ''])
      continue
    }
    const { reqPerSec, p50Ms, p99Ms, cpuMicrosPerRequest } = summary.median
    const statuses = Object.keys(summary.statusCounts).length > 1 ? ` statuses ${Object.entries(summary.statusCounts).map(([status, count]) => `${status}×${count}`).join(' ')}` : ''
    const vs = (summary.ratio === undefined ? '' : `${percent(summary.ratio.reqPerSec)} of ${summary.reference}, p99 ${summary.ratio.p99.toFixed(2)} ×`) + statuses
    rows.push([summary.id, Math.round(reqPerSec).toLocaleString('en-US'), p50Ms.toFixed(1), p99Ms.toFixed(1), Math.round(cpuMicrosPerRequest).toString(),
      Math.round((summary.peakRssBytes ?? 0) / MB).toString(), vs + (summary.warnings.length > 0 ? ` ⚠ ${summary.warnings.join('; ')}` : '')])
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)))
  return rows.map(row => row.map((cell, column) => column === 0 || column === 6 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join('  ').trimEnd()).join('\n')
}
