import type { FastifyInstance, FastifyRequest } from 'fastify'

/** One request as a fake provider received it: what handoff sent, for the tests to assert. */
export interface RecordedRequest {
  method: string
  /** Without the fake's path prefix, so one fake can stand in for an issuer under a realm path. */
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  /** The parsed body (form or JSON); `{}` until the body is read, or when there is none. */
  body: Record<string, string>
}

/**
 * Records every request the fake receives, in arrival order. The array is the fake's `requests`:
 * tests read it, and empty it with `requests.length = 0`.
 */
export function recordRequests (app: FastifyInstance, options: { pathPrefix?: string } = {}): RecordedRequest[] {
  const prefix = options.pathPrefix ?? ''
  const requests: RecordedRequest[] = []
  // By request, not "the last one": handoff reads GitHub's /user and /user/emails concurrently.
  const entries = new WeakMap<FastifyRequest, RecordedRequest>()
  app.addHook('onRequest', async request => {
    const url = new URL(request.url, 'http://fake')
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname
    const entry: RecordedRequest = { method: request.method, path, query: Object.fromEntries(url.searchParams), headers: request.headers, body: {} }
    entries.set(request, entry)
    requests.push(entry)
  })
  app.addHook('preHandler', async request => {
    const entry = entries.get(request)
    if (entry !== undefined) entry.body = (request.body ?? {}) as Record<string, string>
  })
  return requests
}
