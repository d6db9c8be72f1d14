import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import t from 'tap'
import { loadTokenVault, parseTokenKeys, SealedTokensError, TokenVault } from '../../src/providers/token-vault.js'
import { buildTestApp } from '../helpers/build-app.js'

// The providers' tokens at rest: AES-256-GCM under PROVIDER_TOKEN_KEYS, bound to their identity,
// rotatable, never echoed in a message.

const key = () => randomBytes(32).toString('base64')
const owner = { provider: 'naver', providerUserId: 'naver-user-1' }
const tokens = { accessToken: 'AAAA-access-token', accessTokenExpiresAt: new Date('2026-11-23T13:00:00Z'), refreshToken: 'c8ce-refresh-token' }

/** A logger that keeps its warnings. */
function warnings (): { log: FastifyBaseLogger, lines: string[] } {
  const lines: string[] = []
  const log = { warn: (first: unknown, second?: unknown) => { lines.push(typeof first === 'string' ? first : String(second)) } } as unknown as FastifyBaseLogger
  return { log, lines }
}

t.test('PROVIDER_TOKEN_KEYS: base64 or base64url keys of 32 bytes, comma-separated, the first seals', async t => {
  const [a, b] = [key(), randomBytes(32).toString('base64url')]
  const keys = parseTokenKeys(` ${a} ,${b}`)
  t.equal(keys.length, 2)
  t.ok(keys.every(parsed => parsed.key.length === 32))
  t.equal(parseTokenKeys(a.replace(/=$/, ''))[0].id, keys[0].id, 'padding is optional; the id depends on the key only')
  t.match(keys[0].id, /^[\w-]{12}$/)
  t.not(keys[0].id, keys[1].id)
})

t.test('a malformed PROVIDER_TOKEN_KEYS names the position of the bad key, never its text', async t => {
  const short = randomBytes(16).toString('base64')
  const cases: Array<[string, RegExp]> = [
    [short, /^key 1 of 1 is not 32 bytes of base64 \(openssl rand -base64 32\)$/],
    [`${key()},${short}`, /^key 2 of 2 is not 32 bytes/],
    [`${key()},`, /^key 2 of 2 is not 32 bytes/],
    ['not a key at all, really not', /^key 1 of 2 is not 32 bytes/],
    [' , ', /^no key/],
    [`${key().slice(0, 40)}!!!=`, /^key 1 of 1 is not 32 bytes/]
  ]
  for (const [text, message] of cases) {
    t.throws(() => parseTokenKeys(text), { message }, JSON.stringify(text.slice(0, 12)))
    try { parseTokenKeys(text) } catch (error) { t.notMatch((error as Error).message, short, 'the key is not quoted') }
  }
  const same = key()
  t.throws(() => parseTokenKeys(`${same},${same}`), { message: 'the same key is listed twice' })
})

t.test('seal and open: the tokens come back; the ciphertext shows none of them', async t => {
  const vault = new TokenVault(parseTokenKeys(key()))
  const sealed = vault.seal(owner, tokens)
  t.ok(sealed)
  if (sealed === null) return
  t.same(vault.open(owner, sealed), tokens)
  for (const secret of [tokens.accessToken, tokens.refreshToken]) {
    t.notMatch(sealed.ciphertext, secret)
    t.notMatch(Buffer.from(sealed.ciphertext, 'base64url').toString('latin1'), secret)
  }
  t.not(vault.seal(owner, tokens)?.ciphertext, sealed.ciphertext, 'a fresh IV each time')
  const bare = vault.seal(owner, { accessToken: 'gho_only' })
  t.same(bare && vault.open(owner, bare), { accessToken: 'gho_only', accessTokenExpiresAt: undefined, refreshToken: undefined }, 'no expiry, no refresh token')
})

t.test('a ciphertext is bound to its identity: another identity\'s row, or an altered one, does not open', async t => {
  const vault = new TokenVault(parseTokenKeys(key()))
  const sealed = vault.seal(owner, tokens)
  if (sealed === null) throw new Error('not sealed')
  t.throws(() => vault.open({ provider: 'naver', providerUserId: 'naver-user-2' }, sealed), SealedTokensError, 'another user of the provider')
  t.throws(() => vault.open({ provider: 'kakao', providerUserId: 'naver-user-1' }, sealed), SealedTokensError, 'the same id at another provider')
  const bytes = Buffer.from(sealed.ciphertext, 'base64url')
  bytes[20] ^= 1
  t.throws(() => vault.open(owner, { ...sealed, ciphertext: bytes.toString('base64url') }), SealedTokensError, 'one bit flipped')
  t.throws(() => vault.open(owner, { ...sealed, ciphertext: 'AAAA' }), { message: 'the ciphertext is truncated' })
  try {
    vault.open({ provider: 'naver', providerUserId: 'x' }, sealed)
  } catch (error) {
    t.notMatch((error as Error).message, sealed.ciphertext.slice(0, 16), 'the message does not quote the ciphertext')
  }
})

t.test('rotation: a new key in front seals, the old one still opens, a removed one is named by its id', async t => {
  const [older, newer] = [key(), key()]
  const before = new TokenVault(parseTokenKeys(older))
  const sealed = before.seal(owner, tokens)
  if (sealed === null) throw new Error('not sealed')
  const rotated = new TokenVault(parseTokenKeys(`${newer},${older}`))
  t.same(rotated.open(owner, sealed), tokens, 'the old key still opens')
  const resealed = rotated.seal(owner, tokens)
  t.equal(resealed?.keyId, parseTokenKeys(newer)[0].id, 'the new key seals')
  t.equal(rotated.sealingKeyId, resealed?.keyId)
  const retired = new TokenVault(parseTokenKeys(newer))
  t.throws(() => retired.open(owner, sealed), { name: 'SealedTokensError', message: `sealed by key ${sealed.keyId}, which PROVIDER_TOKEN_KEYS no longer lists` })
})

t.test('outside production without PROVIDER_TOKEN_KEYS: one key generated under DATA_DIR, kept across starts', async t => {
  const dataDir = t.testdir()
  const first = warnings()
  const vault = await loadTokenVault({ nodeEnv: 'development', dataDir, providerTokenKeys: undefined }, first.log)
  t.ok(vault.enabled)
  t.match(first.lines, [/PROVIDER_TOKEN_KEYS is not set: generated a development key/])
  const file = path.join(dataDir, 'provider-token-key')
  t.equal((await stat(file)).mode & 0o777, 0o600, 'readable by its owner only')
  const sealed = vault.seal(owner, tokens)
  const again = warnings()
  const restarted = await loadTokenVault({ nodeEnv: 'development', dataDir, providerTokenKeys: undefined }, again.log)
  t.same(sealed && restarted.open(owner, sealed), tokens, 'the same key after a restart')
  t.same(again.lines, [], 'no warning the second time')
  const racing = await Promise.all([1, 2, 3].map(async () => (await loadTokenVault({ nodeEnv: 'test', dataDir: path.join(dataDir, 'race'), providerTokenKeys: undefined }, warnings().log)).sealingKeyId))
  t.equal(new Set(racing).size, 1, 'starts racing on an empty DATA_DIR agree on one key')
})

t.test('production without PROVIDER_TOKEN_KEYS keeps no token and says what that disables, once', async t => {
  const { log, lines } = warnings()
  const vault = await loadTokenVault({ nodeEnv: 'production', dataDir: t.testdir(), providerTokenKeys: undefined }, log)
  t.equal(vault.enabled, false)
  t.equal(vault.seal(owner, tokens), null, 'nothing is sealed')
  t.equal(lines.length, 1)
  t.match(lines[0], /^PROVIDER_TOKEN_KEYS is not set: no provider token is kept, so deleting an account \(or unlinking Naver or Apple\) cannot revoke the Naver or Apple grant, and app\.handoff\.providerAccessToken answers null/)
})

t.test('a malformed PROVIDER_TOKEN_KEYS stops the start with one line naming the setting', async t => {
  const bad = randomBytes(31).toString('base64')
  await t.rejects(buildTestApp(t, { PROVIDER_TOKEN_KEYS: `${key()},${bad}` }), {
    name: 'ConfigError',
    message: 'Invalid setting PROVIDER_TOKEN_KEYS: key 2 of 2 is not 32 bytes of base64 (openssl rand -base64 32)'
  })
})
