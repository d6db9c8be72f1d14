import type { FastifyRequest } from 'fastify'
import type { Sql } from './db/database.js'
import { SignupHookFailedError } from './errors.js'
import type { NormalizedProfile } from './providers/provider.js'
import type { PublicUser } from './users/public-user.js'

// Lifecycle hooks an app passes in the plugin options. onUserCreated runs inside the signup
// transaction, so it can refuse the account; onLogin and onUserDeleted run after the fact, and a
// failure there is logged, never turned into a failed login or a half-deleted account.

export interface UserCreatedEvent {
  user: PublicUser
  /** The provider identity the account was created from. */
  identity: { provider: string, providerUserId: string, email: string | null, emailVerified: boolean }
  /** Bound to the signup transaction: rows written with it commit or roll back with the account. */
  sql: Pick<Sql, 'query'>
  request: FastifyRequest
}

export interface LoginEvent {
  user: PublicUser
  sessionId: string
  /**
   * `exchange`: a returning user traded a one-time code; `signup`: a first login picked a nickname;
   * `provider_token`: a returning user's native app signed in with a provider SDK's token.
   */
  method: 'exchange' | 'signup' | 'provider_token'
  request: FastifyRequest
}

export interface UserDeletedEvent { userId: string, request: FastifyRequest }

/** Why sessions ended, for audit trails. */
export type SessionRevokedReason = 'logout' | 'logout_all' | 'revoked' | 'reuse_detected' | 'account_deleted'
  /** The provider told us the person left our app (unlink webhook): the sessions its identity opened, or all of a kept account's. */
  | 'identity_unlinked'

export interface SessionRevokedEvent {
  userId: string
  /** Every session this revocation ended (one, or all of the user's). */
  sessionIds: string[]
  reason: SessionRevokedReason
  request: FastifyRequest
}

/** The identity as the audit trail needs it: never a token, never an email. */
export interface IdentityRef { id: string, provider: string, providerUserId: string }

export interface IdentityLinkedEvent {
  userId: string
  identity: IdentityRef
  /** `link`: the signed-in user linked it; `verified_email`: a login joined it by a provider-verified email. */
  method: 'link' | 'verified_email'
  /** The session that linked it (absent for a login joined by email: no session exists yet). */
  sessionId?: string
  request: FastifyRequest
}

export interface IdentityUnlinkedEvent {
  userId: string
  identity: IdentityRef
  /** `user`: unlinked by its user (DELETE /users/me/identities/:id); `provider`: the provider said the person left our app (unlink webhook). */
  initiator: 'user' | 'provider'
  /** For `provider`: what the provider said (e.g. Kakao's `referrer_type`), for the audit trail. */
  reason?: string
  /** The session that unlinked it; absent when the provider did. */
  sessionId?: string
  request: FastifyRequest
}

export interface HandoffHooks {
  /**
   * Throw to refuse the signup: nothing is saved and the pending signup stays usable. An error with
   * a 4xx `statusCode` (and a `code`) answers as is; anything else answers 500 `signup_hook_failed`.
   */
  onUserCreated?: (event: UserCreatedEvent) => Promise<void> | void
  onLogin?: (event: LoginEvent) => Promise<void> | void
  onUserDeleted?: (event: UserDeletedEvent) => Promise<void> | void
  /** After sessions were revoked (logout, sign out everywhere, reuse detection, account deletion). */
  onSessionRevoked?: (event: SessionRevokedEvent) => Promise<void> | void
  onIdentityLinked?: (event: IdentityLinkedEvent) => Promise<void> | void
  onIdentityUnlinked?: (event: IdentityUnlinkedEvent) => Promise<void> | void
}

export type UserCreatedCallback = (tx: Sql, user: PublicUser, profile: NormalizedProfile) => Promise<void>

/** onUserCreated bound to a request, as completeSignup calls it inside its transaction. */
export function userCreatedCallback (hooks: HandoffHooks, request: FastifyRequest): UserCreatedCallback | undefined {
  const hook = hooks.onUserCreated
  if (hook === undefined) return undefined
  return async (tx, user, profile) => {
    try {
      await hook({
        user,
        identity: { provider: profile.provider, providerUserId: profile.providerUserId, email: profile.email ?? null, emailVerified: profile.emailVerified },
        sql: tx,
        request
      })
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode
      if (typeof status === 'number' && status >= 400 && status < 500) throw error
      throw new SignupHookFailedError({ cause: error })
    }
  }
}

/** Runs an after-the-fact hook; its failure is logged and swallowed. */
export async function runAfterHook<E extends { request: FastifyRequest }> (hook: ((event: E) => Promise<void> | void) | undefined, name: string, event: E): Promise<void> {
  if (hook === undefined) return
  try {
    await hook(event)
  } catch (error) {
    event.request.log.error({ err: error, hook: name }, 'lifecycle hook failed')
  }
}
