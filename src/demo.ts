import { existsSync } from 'node:fs'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { demoRoot } from './paths.js'

// Paths that belong to the API (after the plugin's prefix): an unknown one stays a JSON 404, never the SPA's index.html.
const API_PATHS = /^\/(auth|users|docs|health)(\/|$)/

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>handoff</title>
<body style="font:16px/1.6 system-ui,sans-serif;max-width:36rem;margin:10vh auto;padding:0 1rem">
<h1>The demo app is not built</h1><p>Run <code>npm run build:spa</code> (or <code>npm run dev</code>, which builds it first), then reload.
The API works without it: see <a href="/docs">/docs</a>.</p></body></html>`

export async function demoPage (app: FastifyInstance): Promise<void> {
  if (!existsSync(`${demoRoot}index.html`)) {
    app.log.warn({ root: demoRoot }, 'DEMO_APP=true but the demo app is not built: run `npm run build:spa`')
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(notBuilt))
    return
  }

  // serve: false, files are looked up per request, so a rebuild (new hashed names) needs no restart.
  // Hashed file names under /assets never change: cache them for good. index.html always revalidates.
  await app.register(fastifyStatic, {
    root: demoRoot,
    serve: false,
    cacheControl: false,
    setHeaders: (reply, path) => reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
  })

  // Files (a dot in the last segment) from dist, or a 404; client routes (/, /settings…) get index.html.
  const spa = async (request: FastifyRequest, reply: FastifyReply) => {
    let path: string
    try {
      path = decodeURIComponent(request.url.split('?')[0]).slice(app.prefix.length)
    } catch {
      return reply.callNotFound()
    }
    if (API_PATHS.test(path)) return reply.callNotFound()
    return reply.sendFile(/\.[^/]*$/.test(path) ? path.slice(1) : 'index.html')
  }
  app.get('/', { schema: { hide: true } }, spa)
  app.get('/*', { schema: { hide: true } }, spa)
}
