import autocannon from 'autocannon'
import type { LoadResult, LoadSpec } from './protocol.js'

// The load generator: a child process of its own, so its CPU is not the server's. It receives one
// LoadSpec over IPC, runs autocannon, answers with a LoadResult and exits.

async function runLoad (spec: LoadSpec): Promise<LoadResult> {
  const { vary } = spec
  // One counter for all connections (they share this process): no value is sent twice.
  let sent = 0
  const request: autocannon.Request = { method: spec.method, path: spec.path }
  if (vary !== undefined) {
    request.setupRequest = (req: autocannon.Request) => {
      const value = vary.values[sent++ % vary.values.length]
      if (vary.in === 'cookie') return { ...req, headers: { ...req.headers, cookie: `${vary.name}=${value}` } }
      if (vary.in === 'body') return { ...req, body: JSON.stringify({ [vary.name]: value }) }
      return { ...req, path: `${spec.path}?${vary.name}=${encodeURIComponent(value)}` }
    }
  }
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    headers: spec.headers,
    requests: [request]
  })
  const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, count ?? 0]))
  const ok = result['2xx']
  return {
    requests: result.requests.total,
    ok,
    statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    reqPerSec: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    valuesLeft: vary === undefined ? null : Math.max(0, vary.values.length - sent)
  }
}

process.once('message', (spec: LoadSpec) => {
  runLoad(spec).then(
    result => process.send?.(result, () => process.exit(0)),
    error => { console.error(error); process.exit(1) }
  )
})
