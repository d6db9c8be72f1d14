import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/** The demo frontend (public/demo) at `/`, for DEMO_APP=true: the handoff seen from a browser. */
export const demoRoot = fileURLToPath(new URL('../public/demo/', import.meta.url))

export async function demoPage (app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: demoRoot, prefix: '/', index: 'index.html', decorateReply: false, cacheControl: false })
}
