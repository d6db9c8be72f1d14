import { randomBytes } from 'node:crypto'
import t from 'tap'
import { estimateSecretBits, isGuessableSecret } from '../src/secret-strength.js'

t.test('random secrets pass with room to spare', async t => {
  const formats: Array<[string, () => string, number]> = [
    ['openssl rand -base64 32', () => randomBytes(32).toString('base64'), 160],
    ['32 bytes base64url', () => randomBytes(32).toString('base64url'), 160],
    ['openssl rand -hex 32', () => randomBytes(32).toString('hex'), 190]
  ]
  for (const [name, generate, floor] of formats) {
    const estimates = Array.from({ length: 2000 }, () => estimateSecretBits(generate()))
    t.ok(Math.min(...estimates) > floor, `${name}: every one of 2000 above ${floor} bits (lowest ${Math.min(...estimates).toFixed(0)})`)
  }
})

t.test('repeated, sequential and short-alphabet secrets are guessable', async t => {
  const cases: Array<[string, boolean]> = [
    ['a'.repeat(48), true],
    ['ab'.repeat(24), true],
    ['f3a9'.repeat(16), true],
    ['0123456789'.repeat(4), true],
    ['abcdefghijklmnopqrstuvwxyz012345', true],
    ['aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ', true],
    ['changeme-changeme-changeme-changeme', true],
    ['nrMHWBzo3xzVxFJZDQo3k7E0B5Nso2B5xmdfthI0n7c', false],
    ['5f0c2e8a91b47d36e0a9c4f18b2d7e53a6c1f09e4b8d2a7c3e5f1b0d9a6c4e82', false]
  ]
  for (const [secret, guessable] of cases) t.equal(isGuessableSecret(secret), guessable, secret)
  t.equal(estimateSecretBits(''), 0)
  t.equal(estimateSecretBits('z'), 0)
})
