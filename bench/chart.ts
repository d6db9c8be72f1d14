import type { BenchReport, CaseSummary } from './report.js'

// A self-contained SVG of the run: median req/s and p99 per case on log scales (a bare route and a
// database write differ by two orders of magnitude), coloured by kind, ratios written beside.

const ROW = 26
const LABEL_WIDTH = 330
const PANEL = { rate: { x: LABEL_WIDTH + 10, width: 330 }, p99: { x: LABEL_WIDTH + 530, width: 230 } }
const TOP = 78
const COLORS = { reference: '#9aa0a6', floor: '#5f6368', postgres: '#1a73e8', pglite: '#12a4a4' }

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const text = (x: number, y: number, content: string, extra = '') => `<text x="${x}" y="${y}" ${extra}>${escape(content)}</text>`

/** Position on a log axis from 10^low to 10^high, clamped to the panel. */
const logX = (value: number, low: number, high: number, width: number) =>
  Math.max(1, Math.min(width, ((Math.log10(Math.max(value, 10 ** low)) - low) / (high - low)) * width))

function colorOf (summary: CaseSummary): string {
  if (summary.id.startsWith('ref-')) return COLORS.reference
  if (summary.id.startsWith('floor-')) return COLORS.floor
  return summary.database === 'pglite' ? COLORS.pglite : COLORS.postgres
}

function axis (panel: { x: number, width: number }, low: number, high: number, unit: string, bottom: number): string {
  const parts: string[] = []
  for (let power = low; power <= high; power++) {
    const x = panel.x + logX(10 ** power, low, high, panel.width)
    const label = 10 ** power >= 1000 ? `${10 ** power / 1000}k` : String(10 ** power)
    parts.push(`<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${bottom}" stroke="#e0e0e0"/>`, text(x, bottom + 14, `${label}${unit}`, 'text-anchor="middle" fill="#5f6368"'))
  }
  return parts.join('')
}

export function renderChart (report: BenchReport): string {
  const rows = report.cases.filter(summary => summary.median !== undefined)
  const bottom = TOP + rows.length * ROW
  const width = PANEL.p99.x + PANEL.p99.width + 90
  const height = bottom + 60
  const body: string[] = [
    text(12, 24, 'handoff: median req/s and p99 latency per case (log scales)', 'font-size="16" font-weight="bold"'),
    text(12, 44, `${report.date.slice(0, 16).replace('T', ' ')} UTC · ${report.machine.cpus} cores, Node ${report.machine.node} · ${report.settings.rounds} × ${report.settings.durationSeconds} s, ${report.settings.connections} connections · ${report.settings.postgres}`, 'fill="#5f6368"'),
    text(PANEL.rate.x, TOP - 12, 'req/s (2xx), ratio to its reference', 'font-weight="bold"'),
    text(PANEL.p99.x, TOP - 12, 'p99 latency', 'font-weight="bold"'),
    axis(PANEL.rate, 2, 5, '', bottom),
    axis(PANEL.p99, 0, 3, ' ms', bottom)
  ]
  rows.forEach((summary, index) => {
    const median = summary.median as NonNullable<CaseSummary['median']>
    const y = TOP + index * ROW
    const color = colorOf(summary)
    const rateWidth = logX(median.reqPerSec, 2, 5, PANEL.rate.width)
    const p99Width = logX(median.p99Ms, 0, 3, PANEL.p99.width)
    const ratio = summary.ratio === undefined ? '' : ` · ${Math.round(summary.ratio.reqPerSec * 100)} %`
    body.push(
      text(LABEL_WIDTH, y + 15, summary.label, 'text-anchor="end"'),
      `<rect x="${PANEL.rate.x}" y="${y + 3}" width="${rateWidth.toFixed(1)}" height="${ROW - 8}" fill="${color}"/>`,
      text(PANEL.rate.x + rateWidth + 4, y + 15, `${Math.round(median.reqPerSec).toLocaleString('en-US')}${ratio}`),
      `<rect x="${PANEL.p99.x}" y="${y + 3}" width="${p99Width.toFixed(1)}" height="${ROW - 8}" fill="${color}"/>`,
      text(PANEL.p99.x + p99Width + 4, y + 15, `${median.p99Ms.toFixed(1)} ms`)
    )
  })
  const legend = [['reference', COLORS.reference], ['database floor', COLORS.floor], ['handoff on PostgreSQL', COLORS.postgres], ['handoff on PGlite', COLORS.pglite]]
  legend.forEach(([name, color], index) => {
    const x = 12 + index * 190
    body.push(`<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${color}"/>`, text(x + 18, height - 12, name))
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
${body.join('\n')}
</svg>
`
}
