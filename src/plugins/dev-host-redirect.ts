import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isLoopback } from '../config.js'

// http://127.0.0.1:3000 and http://localhost:3000 reach the same development server but are two
// sites to a browser: the cookies a login sets on PUBLIC_URL's host are not sent to the other, so a
// login begun there fails (invalid_state) and the session never shows. A page loaded on another
// loopback name of this machine is sent to PUBLIC_URL's host before anything sets a cookie.

async function devHostRedirect (app: FastifyInstance, { publicUrl }: { publicUrl: string }) {
  const target = new URL(publicUrl)
  // PORT=0 without a PUBLIC_URL (tests, tools) leaves http://localhost:0: nowhere to send anyone.
  if (!isLoopback(target.hostname) || target.port === '0') return
  app.addHook('onRequest', async (request, reply) => {
    // A POST cannot be replayed on the other host with its body and the browser's consent.
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !request.url.startsWith('/')) return
    let host: URL
    try {
      host = new URL(`${target.protocol}//${request.host}`)
    } catch {
      return
    }
    if (host.host === target.host || !isLoopback(host.hostname)) return
    // The origin and the path as received: nothing from the request can choose another host.
    return reply.redirect(target.origin + request.url, 307)
  })
}

export default fp(devHostRedirect, { name: 'dev-host-redirect' })
