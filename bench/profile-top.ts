import { readFile } from 'node:fs/promises'
import path from 'node:path'

// Reads a V8 .cpuprofile (from `BENCH_CPU_PROF=dir npm run bench`) and prints the frames with the most
// self time, grouped by package, so a shortfall can be named: `npx tsx bench/profile-top.ts FILE [N]`.

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, limit = '25'] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: tsx bench/profile-top.ts FILE.cpuprofile [N]')
  process.exit(2)
}
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(node => [node.id, node]))
const selfMicros = new Map<number, number>()
profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)))
// Shares are of busy time: the idle node is the server waiting for the network.
const idleIds = new Set(profile.nodes.filter(node => node.callFrame.functionName === '(idle)').map(node => node.id))
for (const id of idleIds) selfMicros.delete(id)
const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0)

/** `fast-jwt`, `fastify`, `src`… : where a frame's code comes from. */
function owner (url: string): string {
  const inModules = url.split('node_modules/').pop() ?? url
  if (inModules !== url) return inModules.startsWith('@') ? inModules.split('/').slice(0, 2).join('/') : inModules.split('/')[0]
  if (url.includes('/src/')) return 'handoff src'
  if (url.includes('/bench/')) return 'bench'
  return url === '' ? '(native/V8)' : url.startsWith('node:') ? 'node core' : path.basename(url)
}

const frames = new Map<string, number>()
const owners = new Map<string, number>()
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame
  const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${url.split('node_modules/').pop()?.replace(/^.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`}`
  frames.set(key, (frames.get(key) ?? 0) + micros)
  owners.set(owner(url), (owners.get(owner(url)) ?? 0) + micros)
}
const share = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)} %`
console.log(`busy self time by package (${(total / 1e6).toFixed(1)} s busy):`)
for (const [name, micros] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${share(micros)}  ${name}`)
console.log('\ntop frames by self time:')
for (const [name, micros] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))) console.log(`${share(micros)}  ${name}`)
