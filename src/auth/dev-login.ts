import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { isIP } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { isLoopback, type Config } from '../config.js'
import { DevLoginLocalOnlyError, LoginErrorCode, LoginFlowError } from '../errors.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { routeRateLimit } from '../plugins/rate-limit.js'
import { ErrorRef } from '../schemas/common.js'
import { generateSecret } from '../secrets.js'
import { completeLogin } from './complete-login.js'
import { DEV_PROVIDER } from './dev-provider.js'
import { redirectWithCode, redirectWithLoginError } from './handoff.js'
import { loginCookies, type RememberedLogin } from './login-cookies.js'
import { loginRequest } from './login.js'
import { AuthDescriptions, LoginQuerySchema } from './schemas.js'

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
type DevIdentity = Static<typeof DevIdentitySchema>

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

  async function signInWithForm (request: FastifyRequest<{ Body: DevIdentity }>, reply: FastifyReply, login: RememberedLogin): Promise<string> {
    if (!cookies.stateMatches(request, (request.body as { state?: unknown } | undefined)?.state)) {
      throw new LoginFlowError(LoginErrorCode.invalidState, 'state is missing or does not match this browser\'s login')
    }
    if (request.validationError !== undefined) throw new LoginFlowError(LoginErrorCode.providerError, `dev form: ${request.validationError.message}`)
    const form = request.body
    if (form.decision === 'deny') throw new LoginFlowError(LoginErrorCode.accessDenied, 'denied on the dev login form')
    const profile = {
      provider: DEV_PROVIDER.id,
      providerUserId: form.id,
      nickname: form.nickname?.trim() || undefined,
      name: form.name?.trim() || undefined,
      email: form.email === '' ? undefined : form.email,
      emailVerified: false
    }
    if (login.native !== undefined && login.codeChallenge === undefined) throw new LoginFlowError(LoginErrorCode.invalidState, 'native login without its code_challenge')
    return completeLogin(app, hooks, request, reply, { profile, codeChallenge: login.codeChallenge, linkByVerifiedEmail: false, client: login.native === undefined ? 'browser' : 'native' })
  }

  app.get('/dev/login', {
    schema: {
      operationId: 'showDevLoginForm',
      tags: ['login'],
      summary: 'Dev provider: a form to sign in as any test identity (DEV_LOGIN=true, never in production)',
      description: AuthDescriptions.devLogin,
      querystring: LoginQuerySchema,
      produces: ['text/html'],
      response: { 200: { type: 'string', description: 'The sign-in form' }, 400: ErrorRef, 403: ErrorRef }
    },
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const login = loginRequest(config, request.query)
    const state = generateSecret()
    cookies.setState(reply, state)
    cookies.remember(reply, login)
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(state))
  })

  app.post('/dev/callback', {
    schema: {
      operationId: 'submitDevLoginForm',
      tags: ['login'],
      summary: 'Dev provider: the form\'s target; redirects to the frontend like any callback',
      consumes: ['application/x-www-form-urlencoded'],
      body: DevIdentitySchema,
      response: { 302: { description: 'To the frontend (or the native app\'s redirect_uri), with `code` or `error`', type: 'null' }, 403: ErrorRef }
    },
    // A malformed form still ends on the frontend, like every browser step.
    attachValidation: true,
    config: { rateLimit: routeRateLimit(config, config.rateLimits.loginPerMinute) }
  }, async (request, reply) => {
    const login = cookies.take(request, reply)
    try {
      const code = await signInWithForm(request as FastifyRequest<{ Body: DevIdentity }>, reply, login)
      return redirectWithCode(reply, config, code, login)
    } catch (error) {
      return redirectWithLoginError(request, reply, config, DEV_PROVIDER.id, error, login.native)
    }
  })
}
