import { readFile } from 'node:fs/promises'
import type { BenchReport } from './report.js'

// Prints the tables of docs/performance.md from bench/results/latest.json, so the doc is updated by
// pasting, not by retyping figures: `npx tsx bench/markdown.ts`.

const report = JSON.parse(await readFile(new URL('./results/latest.json', import.meta.url), 'utf8')) as BenchReport
const MB = 1024 * 1024
const number = (value: number) => Math.round(value).toLocaleString('en-US')

console.log('| case | req/s | p50 ms | p99 ms | server CPU µs/req | peak RSS MB | vs reference (req/s, p99) |')
console.log('|---|---:|---:|---:|---:|---:|---|')
for (const summary of report.cases) {
  if (summary.median === undefined) {
    console.log(`| ${summary.label} | ${summary.skipped ?? 'no result'} | | | | | |`)
    continue
  }
  const { reqPerSec, p50Ms, p99Ms, cpuMicrosPerRequest } = summary.median
  const ratio = summary.ratio === undefined ? '' : `${Math.round(summary.ratio.reqPerSec * 100)} % of \`${summary.reference}\`, ${summary.ratio.p99.toFixed(2)} ×`
  console.log(`| \`${summary.id}\` ${summary.label} | ${number(reqPerSec)} | ${p50Ms.toFixed(1)} | ${p99Ms.toFixed(1)} | ${number(cpuMicrosPerRequest)} | ${number((summary.peakRssBytes ?? 0) / MB)} | ${ratio} |`)
}
console.log('\n| target | measured | |\n|---|---|---|')
for (const check of report.targets) console.log(`| ${check.target} | ${check.measured} | ${check.met ? 'met' : '**missed**'} |`)
if (report.startup !== undefined && 'failed' in report.startup) {
  console.log(`\nStart to ready: failed: ${report.startup.failed}`)
} else if (report.startup !== undefined) {
  console.log(`\nStart to ready: ${number(report.startup.freshMs)} ms (empty DATA_DIR), ${number(report.startup.restartMs)} ms (existing), peak RSS ${number((report.startup.peakRssBytes ?? 0) / MB)} MB.`)
}
console.log(`\n${report.date} · ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ${report.machine.platform} · load average at start ${report.machine.loadAverageAtStart.join(' / ')} · ${report.settings.postgres}`)
