import { runAfterHook, type HandoffHooks, type IdentityLinkedEvent, type IdentityUnlinkedEvent } from '../lifecycle-hooks.js'

// The audit trail of the ways to sign in to an account: one info line per change, then the app's
// hook. Ids only: an email or a token in a log line outlives every retention rule.

/** A new identity on an account: linked by its user, or joined at login by a verified email. */
export async function recordIdentityLinked (hooks: HandoffHooks, event: IdentityLinkedEvent): Promise<void> {
  event.request.log.info({ userId: event.userId, sessionId: event.sessionId, provider: event.identity.provider, identityId: event.identity.id, method: event.method }, 'identity linked')
  await runAfterHook(hooks.onIdentityLinked, 'onIdentityLinked', event)
}

export async function recordIdentityUnlinked (hooks: HandoffHooks, event: IdentityUnlinkedEvent): Promise<void> {
  event.request.log.info({ userId: event.userId, sessionId: event.sessionId, provider: event.identity.provider, identityId: event.identity.id, initiator: event.initiator, reason: event.reason }, 'identity unlinked')
  await runAfterHook(hooks.onIdentityUnlinked, 'onIdentityUnlinked', event)
}
