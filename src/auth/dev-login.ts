import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { isLoopback, type Config } from '../config.js'
import { DevLoginLocalOnlyError, LoginErrorCode, LoginFlowError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { perMinute } from '../plugins/rate-limit.js'
import { ErrorRef } from '../schemas/common.js'
import { generateSecret, safeEqual } from '../secrets.js'
import { completeLogin, redirectToFrontend, rememberLoginRequest } from './complete-login.js'
import { loginCookies } from './login-cookies.js'
import { DEV_PROVIDER } from './dev-provider.js'
import { LoginQuerySchema } from './schemas.js'

// The dev provider: sign in as any test identity with no provider account. Only with DEV_LOGIN=true
// on a loopback PUBLIC_URL, never in production (config.ts refuses both). It follows the same path
// as a real provider (state cookie, callback, one-time code, handoff redirect), except that its
// email is never verified and never links accounts: anyone can type anyone's address into the form.

const DevIdentitySchema = Type.Object({
  state: Type.String({ maxLength: 64 }),
  decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  nickname: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.Optional(Type.String({ maxLength: 64 })),
  email: Type.Optional(Type.Union([Type.Literal(''), Type.String({ format: 'email', maxLength: 254 })]))
})

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

const page = (state: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev login · handoff</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 4px 24px #0001;width:min(24rem,90vw)}
h1{font-size:1.25rem;margin:0 0 .25rem}p{margin:0 0 1.25rem;color:#5b6475;font-size:.9rem}
label{display:block;font-size:.85rem;margin:.75rem 0 .25rem;color:#3b4456}
input[type=text],input[type=email]{width:100%;box-sizing:border-box;padding:.55rem .7rem;border:1px solid #cdd2db;border-radius:8px;font:inherit}
.buttons{display:flex;gap:.5rem;margin-top:1.5rem}button{flex:1;padding:.65rem;border-radius:8px;border:0;font:inherit;cursor:pointer}
.allow{background:#3056d3;color:#fff}.deny{background:#e8eaef;color:#3b4456}
</style></head><body>
<form method="post" action="callback">
<h1>Dev login</h1><p>Sign in as any test identity. Development only.</p>
<input type="hidden" name="state" value="${escapeHtml(state)}">
<label for="id">Provider user id</label><input type="text" id="id" name="id" value="dev-user-1" required pattern="[A-Za-z0-9_.@\\-]+">
<label for="nickname">Nickname at the provider</label><input type="text" id="nickname" name="nickname" value="tester">
<label for="name">Name</label><input type="text" id="name" name="name" value="Test User">
<label for="email">Email (never verified: it links no accounts)</label><input type="email" id="email" name="email" value="tester@example.com">
<div class="buttons"><button class="deny" name="decision" value="deny">Deny</button><button class="allow" name="decision" value="allow">Sign in</button></div>
</form></body></html>`

/** A request made on this machine to a loopback name, not relayed by a proxy or a tunnel. */
function isLocalRequest (request: FastifyRequest): boolean {
  const peer = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
  const peerIsLoopback = peer === '::1' || (isIP(peer) === 4 && peer.startsWith('127.'))
  const relayed = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some(header => request.headers[header] !== undefined)
  let hostname = ''
  try { hostname = new URL(`http://${request.headers.host ?? ''}`).hostname } catch {}
  return peerIsLoopback && !relayed && isLoopback(hostname)
}

export const devLoginRoutes: FastifyPluginAsyncTypebox<{ config: Config, hooks: HandoffHooks }> = async (app, { config, hooks }) => {
  // A host app that parses forms already lends us its parser: a second one would throw.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody, { bodyLimit: 4096 })
  // The settings check PUBLIC_URL and HOST, which say nothing of a host app listening on every
  // interface, or of a tunnel (ngrok, cloudflared) that forwards the world to localhost.
  app.addHook('onRequest', async request => {
    if (!isLocalRequest(request)) throw new DevLoginLocalOnlyError()
  })
  const cookies = loginCookies(config, DEV_PROVIDER.id)

  app.get('/dev/login', {
    schema: {
      tags: ['login'],
      summary: 'Dev provider: a form to sign in as any test identity (DEV_LOGIN=true, never in production)',
      description: 'Only for requests made on this machine: from a loopback address, to a loopback host name, not relayed by a proxy or tunnel (no X-Forwarded-For, Forwarded or X-Real-IP); anything else answers 403 `dev_login_local_only`.',
      querystring: LoginQuerySchema,
      produces: ['text/html'],
      response: { 200: { type: 'string', description: 'The sign-in form' }, 403: ErrorRef }
    },
    config: { rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const state = generateSecret()
    cookies.set(reply, 'state', state)
    rememberLoginRequest(reply, config, DEV_PROVIDER.id, { returnTo: request.query.returnTo, codeChallenge: request.query.code_challenge })
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(state))
  })

  app.post('/dev/callback', {
    schema: {
      tags: ['login'],
      summary: 'Dev provider: the form\'s target; redirects to the frontend like any callback',
      consumes: ['application/x-www-form-urlencoded'],
      body: DevIdentitySchema,
      response: { 302: { description: 'To the frontend, with `code` or `error`', type: 'null' }, 403: ErrorRef }
    },
    // A malformed form still ends on the frontend, like every browser step.
    attachValidation: true,
    config: { rateLimit: perMinute(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => redirectToFrontend(request, reply, config, DEV_PROVIDER.id, async () => {
    const expected = cookies.read(request, 'state')
    const state = (request.body as { state?: unknown } | undefined)?.state
    if (typeof state !== 'string' || expected === undefined || !safeEqual(state, expected)) {
      throw new LoginFlowError(LoginErrorCode.invalidState, 'state is missing or does not match this browser\'s login')
    }
    if (request.validationError !== undefined) throw new LoginFlowError(LoginErrorCode.providerError, `dev form: ${request.validationError.message}`)
    const form = request.body
    if (form.decision === 'deny') throw new LoginFlowError(LoginErrorCode.accessDenied, 'denied on the dev login form')
    const email = form.email === '' ? undefined : form.email
    return completeLogin(app, request, reply, {
      provider: DEV_PROVIDER.id,
      providerUserId: form.id,
      nickname: form.nickname?.trim() || undefined,
      name: form.name?.trim() || undefined,
      email,
      emailVerified: false
    }, hooks)
  }))
}
