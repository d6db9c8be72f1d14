import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConfigError, type Config } from '../config.js'
import { readOrCreateSecretFile } from '../data-dir.js'
import type { ProviderTokens } from './provider.js'

// The providers' tokens at rest: AES-256-GCM under PROVIDER_TOKEN_KEYS (the first key seals, every
// key opens, so a key can be rotated in front of the old ones), or outside production a key
// generated once under DATA_DIR. Each ciphertext is bound to its identity (provider and provider
// user id, as GCM's associated data): a row copied onto another identity does not open. Neither a
// token nor a key ever reaches a log line or an error message.

/** One sealed set of tokens: what provider_tokens, a pending profile and a revocation job store. */
export interface SealedTokens { ciphertext: string, keyId: string }

/** Whose tokens they are: the associated data every ciphertext is bound to. */
export interface TokenOwner { provider: string, providerUserId: string }

export interface TokenKey { id: string, key: Buffer }

/** A ciphertext that does not open: sealed for another identity, altered, or by a key no longer configured. */
export class SealedTokensError extends Error {
  override name = 'SealedTokensError'
}

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_PATTERN = /^[A-Za-z0-9+/_-]{43}=?$/
export const TOKEN_KEY_HINT = 'openssl rand -base64 32'

/** A short public name for a key (stored beside each ciphertext): a hash, which says nothing about the key. */
const keyId = (key: Buffer): string => createHash('sha256').update('handoff provider token key').update(key).digest('base64url').slice(0, 12)

/**
 * PROVIDER_TOKEN_KEYS: base64 (or base64url) keys of 32 bytes, comma-separated, the sealing one
 * first. Throws a message that names the position of a bad key, never its text.
 */
export function parseTokenKeys (text: string): TokenKey[] {
  const parts = text.split(',').map(part => part.trim())
  if (parts.every(part => part === '')) throw new Error(`no key (one or more base64 keys of 32 bytes, comma-separated: ${TOKEN_KEY_HINT})`)
  const keys = parts.map((part, index) => {
    const key = KEY_PATTERN.test(part) ? Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined
    if (key === undefined || key.length !== 32) {
      throw new Error(`key ${index + 1} of ${parts.length} is not 32 bytes of base64 (${TOKEN_KEY_HINT})`)
    }
    return { id: keyId(key), key }
  })
  if (new Set(keys.map(key => key.id)).size !== keys.length) throw new Error('the same key is listed twice')
  return keys
}

const associatedData = (owner: TokenOwner): Buffer => Buffer.from(JSON.stringify(['handoff provider tokens v1', owner.provider, owner.providerUserId]))

/** `clientId` only when the tokens name one (absent in rows sealed before it existed, read as the provider's own). */
interface StoredTokens { accessToken: string, accessTokenExpiresAt: string | null, refreshToken: string | null, clientId?: string }

export class TokenVault {
  readonly #keys: TokenKey[]

  /** No keys: nothing is kept (production without PROVIDER_TOKEN_KEYS). */
  constructor (keys: TokenKey[]) {
    this.#keys = keys
  }

  get enabled (): boolean { return this.#keys.length > 0 }

  /** The id of the key that seals now; a row sealed by another is resealed on its next write. */
  get sealingKeyId (): string | undefined { return this.#keys[0]?.id }

  /** The tokens, sealed for their owner with the first key; null when no key is configured. */
  seal (owner: TokenOwner, tokens: ProviderTokens): SealedTokens | null {
    const [current] = this.#keys
    if (current === undefined) return null
    const stored: StoredTokens = {
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt?.toISOString() ?? null,
      refreshToken: tokens.refreshToken ?? null,
      ...(tokens.clientId === undefined ? {} : { clientId: tokens.clientId })
    }
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', current.key, iv)
    cipher.setAAD(associatedData(owner))
    const body = Buffer.concat([cipher.update(JSON.stringify(stored), 'utf8'), cipher.final()])
    return { ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'), keyId: current.id }
  }

  /** Opens tokens sealed for this owner, or throws SealedTokensError (which never quotes the ciphertext). */
  open (owner: TokenOwner, sealed: SealedTokens): ProviderTokens {
    const key = this.#keys.find(candidate => candidate.id === sealed.keyId)
    if (key === undefined) throw new SealedTokensError(`sealed by key ${sealed.keyId}, which PROVIDER_TOKEN_KEYS no longer lists`)
    const bytes = Buffer.from(sealed.ciphertext, 'base64url')
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SealedTokensError('the ciphertext is truncated')
    let stored: StoredTokens
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, bytes.subarray(0, IV_BYTES))
      decipher.setAAD(associatedData(owner))
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
      stored = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8'))
    } catch {
      throw new SealedTokensError('the ciphertext does not open for this identity (altered, or sealed for another)')
    }
    return {
      accessToken: stored.accessToken,
      accessTokenExpiresAt: stored.accessTokenExpiresAt === null ? undefined : new Date(stored.accessTokenExpiresAt),
      refreshToken: stored.refreshToken ?? undefined,
      ...(typeof stored.clientId === 'string' ? { clientId: stored.clientId } : {})
    }
  }
}

/** What a production start without PROVIDER_TOKEN_KEYS gives up: the start warning and `handoff check` say it. */
export const NO_TOKEN_KEYS_WARNING = 'PROVIDER_TOKEN_KEYS is not set: no provider token is kept, so deleting an account (or unlinking Naver or Apple) cannot revoke the Naver or Apple grant, and app.handoff.providerAccessToken answers null. Set PROVIDER_TOKEN_KEYS (openssl rand -base64 32)'

/** PROVIDER_TOKEN_KEYS parsed, as a start and `handoff check` do; a ConfigError naming the setting. */
export function configuredTokenKeys (config: Pick<Config, 'providerTokenKeys'>): TokenKey[] | undefined {
  if (config.providerTokenKeys === undefined) return undefined
  try {
    return parseTokenKeys(config.providerTokenKeys)
  } catch (error) {
    throw new ConfigError(`Invalid setting PROVIDER_TOKEN_KEYS: ${(error as Error).message}`)
  }
}

/** Called once at start: the configured keys, a development key under DATA_DIR, or none in production (with a warning). */
export async function loadTokenVault (config: Pick<Config, 'providerTokenKeys' | 'nodeEnv' | 'dataDir'>, log: FastifyBaseLogger): Promise<TokenVault> {
  const keys = configuredTokenKeys(config)
  if (keys !== undefined) return new TokenVault(keys)
  if (config.nodeEnv === 'production') {
    log.warn(NO_TOKEN_KEYS_WARNING)
    return new TokenVault([])
  }
  const text = await readOrCreateSecretFile(path.resolve(config.dataDir, 'provider-token-key'), () => randomBytes(32).toString('base64'),
    log, 'PROVIDER_TOKEN_KEYS is not set: generated a development key for the providers\' tokens. Set PROVIDER_TOKEN_KEYS in production.')
  try {
    return new TokenVault(parseTokenKeys(text))
  } catch (error) {
    throw new ConfigError(`The development provider token key in ${config.dataDir} is damaged (${(error as Error).message}): delete the file provider-token-key, or set PROVIDER_TOKEN_KEYS`)
  }
}

declare module '../namespace.js' {
  interface HandoffNamespace {
    /** Seals and opens the providers' tokens kept at rest (disabled in production without PROVIDER_TOKEN_KEYS). */
    tokenVault: TokenVault
  }
}

async function tokenVault (app: FastifyInstance, { config }: { config: Config }) {
  app.handoff.tokenVault = await loadTokenVault(config, app.log)
}

export default fp(tokenVault, { name: 'token-vault' })
