import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { AppleConfig, Config } from '../config.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { appleNotificationReader, type AppleEvent } from '../providers/apple-notification.js'
import { ErrorRef } from '../schemas/common.js'
import { unlinkIdentityByProvider } from '../users/provider-unlink.js'

// Apple's server-to-server notifications, at the endpoint registered on the primary App ID
// (docs/providers.md, Apple). Checked as Apple's (providers/apple-notification.ts), then acted on in
// the database only, and answered 200: Apple delivers each event once, may deliver one twice, and
// documents no retry, so a duplicate, an unknown person or an event type we do not act on is a 200
// that changes nothing. No rate limit, as for the other providers' webhooks: the callers are Apple's
// servers, and a forger is stopped by the signature, not by a count.

const NotificationSchema = Type.Object({
  payload: Type.String({ minLength: 1, maxLength: 16_384, description: 'A JWT Apple signed (RS256, its JWKS): `iss`, `aud` (the Services ID or a bundle id), `iat`, `jti`, `events`' })
})

const description = 'Sign in with Apple\'s server-to-server notifications (register `PUBLIC_URL/auth/apple/notifications` on the primary App ID). ' +
  'The payload must verify against Apple\'s keys, with `iss` = APPLE_AUTH_URL and `aud` = APPLE_CLIENT_ID or one of APPLE_APP_IDS, else 401 `unlink_unauthorized` and nothing changes; ' +
  'its `events` (a JSON string or an object) needs a `type` and a `sub`, else 400 `unlink_request_invalid`. ' +
  '`consent-revoked`, `account-delete` and `account-deleted` remove that Apple identity and end the sessions it opened (ON_LAST_IDENTITY_UNLINKED decides for an account left without a way to sign in), unless the identity signed in after the event; ' +
  '`email-disabled` / `email-enabled` set the identity\'s `emailForwarding` (GET /users/me), unless a later email event was applied already. 200 with an empty body for every event, known or not, also for an unknown person or a duplicate. ' +
  '504 `provider_timeout` or 502 `provider_error` when Apple\'s keys cannot be read (nothing changed; Apple may deliver again).'

const UNLINK_EVENTS = new Set(['consent-revoked', 'account-delete', 'account-deleted'])
const EMAIL_EVENTS: Record<string, boolean> = { 'email-disabled': false, 'email-enabled': true }

export const appleNotificationRoutes: FastifyPluginAsyncTypebox<{ config: Config, apple: AppleConfig, hooks: HandoffHooks }> = async (app, { config, apple, hooks }) => {
  const read = appleNotificationReader(apple, config.providerTimeoutMs)
  const { sql } = app.handoff.db

  /** consent-revoked, account-delete(d): the person is gone from our app on Apple's side. */
  async function unlink (request: FastifyRequest, event: AppleEvent): Promise<string> {
    // A late or replayed event must not remove an identity the person signed in with again since.
    const [identity] = await sql.query<{ last_login_at: Date }>('SELECT last_login_at FROM identities WHERE provider = $1 AND provider_user_id = $2', ['apple', event.sub])
    if (identity !== undefined && event.time !== undefined && new Date(identity.last_login_at) > event.time) return 'ignored: the identity signed in after the event'
    const result = await unlinkIdentityByProvider(app, hooks, request, { provider: 'apple', providerUserId: event.sub }, event.type)
    return result.status === 'unlinked' ? `identity removed${result.accountDeleted === true ? ', account deleted' : ''}` : 'no such identity, nothing to do'
  }

  /**
   * email-disabled, email-enabled: forwarding to the private relay address turned off or on. Applied
   * in the order the events happened, not the order they arrive: one older than the event that last
   * set it (a late delivery, or a replay of a captured payload) changes nothing. Same-time events
   * apply in arrival order: Apple's example gives seconds only.
   */
  async function setForwarding (event: AppleEvent, forwarding: boolean): Promise<string> {
    const [identity] = await sql.query<{ applied: boolean }>(
      `WITH target AS (SELECT id FROM identities WHERE provider = $1 AND provider_user_id = $2),
       updated AS (
         UPDATE identities SET email_forwarding = $3, email = COALESCE($4, email), email_forwarding_changed_at = $5
         WHERE id IN (SELECT id FROM target) AND (email_forwarding_changed_at IS NULL OR email_forwarding_changed_at <= $5) RETURNING id)
       SELECT EXISTS (SELECT 1 FROM updated) AS applied FROM target`,
      ['apple', event.sub, forwarding, event.email ?? null, event.time ?? app.handoff.clock.now()])
    if (identity === undefined) return 'no such identity, nothing to do'
    return identity.applied ? `email forwarding ${forwarding ? 'on' : 'off'}` : 'ignored: a later email event was applied already'
  }

  app.post('/apple/notifications', {
    schema: {
      tags: ['webhooks'],
      operationId: 'receiveAppleNotification',
      summary: 'Sign in with Apple\'s server-to-server notifications',
      description,
      body: NotificationSchema,
      response: { 200: { type: 'null', description: 'Handled (also an unknown person, a duplicate or an event type not acted on)' }, 400: ErrorRef, 401: ErrorRef, 502: ErrorRef, 504: ErrorRef }
    },
    // A refusal is worth a warning: a wrong APPLE_CLIENT_ID or APPLE_APP_IDS here would refuse every real one.
    onError: async (request: FastifyRequest, _reply: unknown, error: FastifyError) => {
      if (/^(UNLINK_|PROVIDER_)/i.test(error.code)) request.log.warn({ provider: 'apple', reason: error.message }, 'apple notification refused')
    }
  }, async (request, reply) => {
    const event = await read(request.body.payload)
    const forwarding = EMAIL_EVENTS[event.type]
    const outcome = UNLINK_EVENTS.has(event.type)
      ? await unlink(request, event)
      : forwarding !== undefined ? await setForwarding(event, forwarding) : 'an event type handoff does not act on'
    // Ids and the event type only: never the email the event may carry.
    request.log.info({ provider: 'apple', event: event.type, outcome }, `apple notification: ${outcome}`)
    // An empty body: Apple reads only the status.
    return (reply as FastifyReply).code(200).send()
  })
}
