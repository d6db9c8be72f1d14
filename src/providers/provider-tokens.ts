import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import type { Sql } from '../db/database.js'
import type { Provider, ProviderTokens, TokenResponse } from './provider.js'
import type { SealedTokens, TokenOwner, TokenVault } from './token-vault.js'

// Every read and write of `provider_tokens`: the tokens a login brought, kept sealed (token-vault.ts)
// for calls made later: app.handoff.providerAccessToken for the host app, revoking the grant when the
// account or identity goes (grant-revocations.ts). Only access_token, its expiry and refresh_token
// are kept; never an id_token.

/** An access token with less than this left is refreshed first: the caller still has to use it. */
const FRESH_MARGIN_MS = 60_000

/**
 * app.handoff.providerAccessToken could not refresh an expired access token. `grantInvalid`: the
 * provider said the grant is gone (`invalid_grant`: revoked, expired, or the person unlinked the
 * app there), so the kept tokens were dropped and only a new login with that provider brings new
 * ones. Otherwise (the provider failed, timed out, refused for another reason) the tokens are kept
 * and a later call tries again.
 */
export class ProviderTokenRefreshError extends Error {
  override name = 'ProviderTokenRefreshError'
  readonly code: 'provider_grant_invalid' | 'provider_refresh_failed'

  constructor (readonly providerId: string, readonly grantInvalid: boolean, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = grantInvalid ? 'provider_grant_invalid' : 'provider_refresh_failed'
  }
}

/** `expires_in` in seconds, as a number or (Naver) a numeric string; anything else: no expiry known. */
function expiresAt (value: unknown, now: Date): Date | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) ? Number(value) : NaN
  return Number.isFinite(seconds) && seconds > 0 ? new Date(now.getTime() + seconds * 1000) : undefined
}

/**
 * The tokens of a token endpoint's reply (a login's or a refresh's), or null without an access
 * token. A reply without `refresh_token` keeps `previousRefreshToken` (Naver never sends a new one
 * on refresh; Google only at the first consent).
 */
export function tokensFromReply (reply: TokenResponse, now: Date, previousRefreshToken?: string): ProviderTokens | null {
  const accessToken = reply.access_token
  if (typeof accessToken !== 'string' || accessToken === '') return null
  const refreshToken = typeof reply.refresh_token === 'string' && reply.refresh_token !== '' ? reply.refresh_token : previousRefreshToken
  return { accessToken, accessTokenExpiresAt: expiresAt(reply.expires_in, now), refreshToken }
}

const fresh = (tokens: ProviderTokens, now: Date): boolean =>
  tokens.accessTokenExpiresAt === undefined || tokens.accessTokenExpiresAt.getTime() - now.getTime() > FRESH_MARGIN_MS

interface TokenRow { ciphertext: string, key_id: string }

const sealedOf = (row: TokenRow): SealedTokens => ({ ciphertext: row.ciphertext, keyId: row.key_id })

const UPSERT = `INSERT INTO provider_tokens (identity_id, ciphertext, key_id, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (identity_id) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, key_id = EXCLUDED.key_id, updated_at = EXCLUDED.updated_at`

/** Inserts tokens sealed earlier (a first login's, carried by its pending profile) for a new identity. */
export async function insertSealedTokens (tx: Pick<Sql, 'query'>, identityId: string, sealed: SealedTokens, now: Date): Promise<void> {
  await tx.query(UPSERT, [identityId, sealed.ciphertext, sealed.keyId, now])
}

/**
 * Keeps a login's tokens for an existing identity, sealed with the current key. A reply without a
 * refresh token keeps the one already kept: the provider's earlier grant still holds it. Nothing is
 * kept for an identity removed meanwhile.
 */
export async function keepProviderTokens (sql: Sql, vault: TokenVault, identity: TokenOwner & { id: string }, tokens: ProviderTokens, now: Date): Promise<void> {
  if (!vault.enabled) return
  await sql.transaction(async tx => {
    // The identity first, then its tokens: the order a removal takes them in (the identity, then
    // the cascade to its tokens), or the two would deadlock. Gone: nothing to keep.
    if ((await tx.query('SELECT 1 FROM identities WHERE id = $1 FOR KEY SHARE', [identity.id])).length === 0) return
    let kept = tokens
    if (tokens.refreshToken === undefined) {
      const [row] = await tx.query<TokenRow>('SELECT ciphertext, key_id FROM provider_tokens WHERE identity_id = $1 FOR UPDATE', [identity.id])
      const previous = row === undefined ? undefined : openOrUndefined(vault, identity, row)
      // Only a refresh token of the same client: one issued to another (an Apple app's bundle id
      // against the web's Services ID) would be refreshed and revoked as the wrong client.
      if (previous?.clientId === tokens.clientId) kept = { ...tokens, refreshToken: previous?.refreshToken }
    }
    const sealed = vault.seal(identity, kept) as SealedTokens
    await tx.query(UPSERT, [identity.id, sealed.ciphertext, sealed.keyId, now])
  })
}

/** The kept tokens, or undefined when they do not open (a key taken out of PROVIDER_TOKEN_KEYS, a damaged row). */
function openOrUndefined (vault: TokenVault, owner: TokenOwner, row: TokenRow, log?: FastifyBaseLogger): ProviderTokens | undefined {
  try {
    return vault.open(owner, sealedOf(row))
  } catch (error) {
    log?.warn({ provider: owner.provider, reason: (error as Error).message }, 'provider tokens: kept tokens do not open; treated as none')
    return undefined
  }
}

interface AccessTokenDeps {
  sql: Sql
  /** PostgreSQL: other instances may refresh the same tokens, so a row lock is taken. */
  shared: boolean
  vault: TokenVault
  clock: Clock
  providers: ReadonlyMap<string, Provider>
  timeoutMs: number
  log: FastifyBaseLogger
}

type RefreshOutcome = { accessToken: string | null } | { error: ProviderTokenRefreshError }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** app.handoff.providerAccessToken, over these dependencies. */
export function providerAccessTokens (deps: AccessTokenDeps): (userId: string, providerId: string) => Promise<string | null> {
  const { sql, vault, clock, providers, log } = deps
  // Callers in this process asking for the same identity's refresh share one.
  const refreshing = new Map<string, Promise<string | null>>()

  /**
   * Refreshes under a lock: on PostgreSQL the row's (FOR UPDATE, held across the provider call, so
   * of several instances one refreshes and the others then read its result: a provider that rotates
   * refresh tokens would refuse the second use of the old one). The embedded database has one
   * process, and its single connection must not wait on a provider: `refreshing` is the lock there.
   */
  async function refreshLocked (identityId: string, owner: TokenOwner, provider: Provider): Promise<string | null> {
    const outcome = deps.shared ? await sql.transaction(tx => refresh(tx, identityId, owner, provider, true)) : await refresh(sql, identityId, owner, provider, false)
    if ('error' in outcome) throw outcome.error
    return outcome.accessToken
  }

  async function refresh (tx: Pick<Sql, 'query'>, identityId: string, owner: TokenOwner, provider: Provider, lock: boolean): Promise<RefreshOutcome> {
    const [row] = await tx.query<TokenRow>(`SELECT ciphertext, key_id FROM provider_tokens WHERE identity_id = $1${lock ? ' FOR UPDATE' : ''}`, [identityId])
    const tokens = row === undefined ? undefined : openOrUndefined(vault, owner, row, log)
    if (tokens === undefined) return { accessToken: null }
    // Another instance refreshed while this one waited for the lock.
    if (fresh(tokens, clock.now())) return { accessToken: tokens.accessToken }
    if (tokens.refreshToken === undefined || provider.refreshTokens === undefined) return { accessToken: null }
    let reply: TokenResponse
    try {
      reply = await provider.refreshTokens(tokens.refreshToken, { timeoutMs: deps.timeoutMs, clientId: tokens.clientId })
    } catch (error) {
      return { error: new ProviderTokenRefreshError(provider.id, false, `${provider.displayName} did not refresh the access token: ${(error as Error).message}`, { cause: error }) }
    }
    const now = clock.now()
    const refreshed = typeof reply.error === 'string' ? null : tokensFromReply(reply, now, tokens.refreshToken)
    // Still the same client's tokens (an Apple app's bundle id): the next refresh and the revocation name it.
    const next = refreshed === null || tokens.clientId === undefined ? refreshed : { ...refreshed, clientId: tokens.clientId }
    if (next === null) {
      const providerError = typeof reply.error === 'string' ? reply.error.slice(0, 64) : 'no access_token'
      // Only the provider's word that the grant is gone drops the tokens; anything else may pass.
      const grantInvalid = providerError === 'invalid_grant'
      if (grantInvalid) {
        await tx.query('DELETE FROM provider_tokens WHERE identity_id = $1', [identityId])
        log.warn({ provider: provider.id, identityId }, 'provider tokens: the provider says the grant is invalid; kept tokens dropped')
      }
      return { error: new ProviderTokenRefreshError(provider.id, grantInvalid, `${provider.displayName} refused to refresh the access token: ${providerError}`) }
    }
    const sealed = vault.seal(owner, next) as SealedTokens
    const updated = await tx.query('UPDATE provider_tokens SET ciphertext = $2, key_id = $3, updated_at = $4 WHERE identity_id = $1 RETURNING 1', [identityId, sealed.ciphertext, sealed.keyId, now])
    // The identity was removed while the provider answered: its user no longer has it.
    return { accessToken: updated.length === 0 ? null : next.accessToken }
  }

  return async function providerAccessToken (userId: string, providerId: string): Promise<string | null> {
    const provider = providers.get(providerId)
    if (provider === undefined) throw new Error(`providerAccessToken: no provider "${String(providerId)}" is enabled`)
    if (!vault.enabled || typeof userId !== 'string' || !UUID.test(userId)) return null
    // The user's most recently used identity of this provider (an account may link two of one provider).
    const [row] = await sql.query<{ id: string, provider_user_id: string, ciphertext: string | null, key_id: string | null }>(
      `SELECT i.id, i.provider_user_id, t.ciphertext, t.key_id FROM identities i LEFT JOIN provider_tokens t ON t.identity_id = i.id
       WHERE i.user_id = $1 AND i.provider = $2 ORDER BY i.last_login_at DESC, i.created_at DESC LIMIT 1`, [userId, providerId])
    if (row?.ciphertext == null || row.key_id === null) return null
    const owner = { provider: providerId, providerUserId: row.provider_user_id }
    const tokens = openOrUndefined(vault, owner, { ciphertext: row.ciphertext, key_id: row.key_id }, log)
    if (tokens === undefined) return null
    if (fresh(tokens, clock.now())) return tokens.accessToken
    let pending = refreshing.get(row.id)
    if (pending === undefined) {
      pending = refreshLocked(row.id, owner, provider).finally(() => refreshing.delete(row.id))
      refreshing.set(row.id, pending)
    }
    return pending
  }
}

declare module '../namespace.js' {
  interface HandoffNamespace {
    /**
     * An access token for calling `providerId`'s API as this user: null when the user has no
     * identity of that provider, or no tokens were kept for it (none in production without
     * PROVIDER_TOKEN_KEYS; none from logins before handoff kept them), or the token expired and
     * cannot be refreshed. A token with under 60 s left is refreshed first (the refresh token
     * kept when the reply has none). Throws ProviderTokenRefreshError when the provider refuses
     * or fails the refresh, and an Error for a provider id that is not enabled.
     */
    providerAccessToken(userId: string, providerId: string): Promise<string | null>
  }
}

async function providerTokens (app: FastifyInstance, { providers }: { providers: readonly Provider[] }) {
  app.handoff.providerAccessToken = providerAccessTokens({
    sql: app.handoff.db.sql,
    shared: app.handoff.db.kind === 'postgres',
    vault: app.handoff.tokenVault,
    clock: app.handoff.clock,
    providers: new Map(providers.map(provider => [provider.id, provider])),
    timeoutMs: app.handoff.config.providerTimeoutMs,
    log: app.log.child({ component: 'provider-tokens' })
  })
}

export default fp(providerTokens, { name: 'provider-tokens', dependencies: ['database', 'token-vault'] })
