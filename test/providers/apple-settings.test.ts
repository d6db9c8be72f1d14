import { generateKeyPairSync } from 'node:crypto'
import path from 'node:path'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { clientSecretSource, CLIENT_SECRET_LIFETIME_SECONDS } from '../../src/providers/apple-client-secret.js'
import { runCli } from '../helpers/run-cli.js'

// The Apple settings and the client secret they sign: a key that cannot sign stops the start (and
// `handoff check`) with one line naming the setting and quoting no part of the key.

const team = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const pem = team.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const base = { APPLE_CLIENT_ID: 'com.example.web', APPLE_TEAM_ID: 'TEAM123456', APPLE_KEY_ID: 'KEY1234567' }
const oneLine = pem.trim().replace(/\n/g, '\\n')
const keyBody = pem.split('\n')[1]

t.test('APPLE_* settings: the key as PEM, as one line with \\n, or as a file; app ids; the host', async t => {
  const config = loadConfig({ ...base, APPLE_PRIVATE_KEY: oneLine, APPLE_APP_IDS: 'com.example.ios, com.example.watch,com.example.ios' })
  t.match(config.apple, { clientId: 'com.example.web', teamId: 'TEAM123456', keyId: 'KEY1234567', authUrl: 'https://appleid.apple.com', appIds: ['com.example.ios', 'com.example.watch'] })
  t.equal(config.apple?.privateKey.asymmetricKeyType, 'ec')
  t.equal(loadConfig({ ...base, APPLE_PRIVATE_KEY: pem }).apple?.keyId, 'KEY1234567', 'real line breaks')

  const dir = t.testdir({ 'AuthKey_KEY1234567.p8': pem })
  t.ok(loadConfig({ ...base, APPLE_PRIVATE_KEY_FILE: path.join(dir, 'AuthKey_KEY1234567.p8') }).apple, 'the .p8 file')
  t.equal(loadConfig({ ...base, APPLE_PRIVATE_KEY: pem, APPLE_AUTH_URL: 'http://127.0.0.2:4000/' }).apple?.authUrl, 'http://127.0.0.2:4000')
  t.equal(loadConfig({}).apple, undefined, 'off without APPLE_CLIENT_ID')
})

t.test('a bad Apple setting: one line naming it, no part of the key', async t => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const truncated = pem.replace(keyBody, keyBody.slice(0, 20))
  const cases: Array<[Record<string, string>, string]> = [
    [{ ...base }, 'Invalid setting APPLE_PRIVATE_KEY: is required when APPLE_CLIENT_ID is set'],
    [{ ...base, APPLE_PRIVATE_KEY: truncated }, 'Invalid setting APPLE_PRIVATE_KEY: is not a readable PEM private key'],
    [{ ...base, APPLE_PRIVATE_KEY: keyBody }, 'Invalid setting APPLE_PRIVATE_KEY: must be the .p8 file\'s PEM text'],
    [{ ...base, APPLE_PRIVATE_KEY: rsa }, 'Invalid setting APPLE_PRIVATE_KEY: must be an EC P-256 key, the kind Apple issues for Sign in with Apple (this one is rsa)'],
    [{ ...base, APPLE_PRIVATE_KEY: p384 }, 'Invalid setting APPLE_PRIVATE_KEY: must be an EC P-256 key, the kind Apple issues for Sign in with Apple (this one is ec secp384r1)'],
    [{ ...base, APPLE_PRIVATE_KEY_FILE: '/nonexistent/AuthKey.p8' }, 'Invalid setting APPLE_PRIVATE_KEY_FILE: cannot read /nonexistent/AuthKey.p8 (ENOENT)'],
    [{ ...base, APPLE_PRIVATE_KEY: pem, APPLE_PRIVATE_KEY_FILE: '/k.p8' }, 'Invalid setting APPLE_PRIVATE_KEY_FILE: set APPLE_PRIVATE_KEY or APPLE_PRIVATE_KEY_FILE, not both'],
    [{ ...base, APPLE_TEAM_ID: undefined as unknown as string, APPLE_PRIVATE_KEY: pem }, 'Invalid setting APPLE_TEAM_ID: is required when APPLE_CLIENT_ID is set'],
    [{ ...base, APPLE_KEY_ID: 'key', APPLE_PRIVATE_KEY: pem }, 'Invalid setting APPLE_KEY_ID: must match pattern'],
    [{ ...base, APPLE_CLIENT_ID: 'com.example web', APPLE_PRIVATE_KEY: pem }, 'Invalid setting APPLE_CLIENT_ID: must match pattern'],
    [{ ...base, APPLE_APP_IDS: 'com.example.ios;evil', APPLE_PRIVATE_KEY: pem }, 'Invalid setting APPLE_APP_IDS: must match pattern'],
    [{ APPLE_TEAM_ID: 'TEAM123456' }, 'Invalid setting APPLE_TEAM_ID: is only used with APPLE_CLIENT_ID']
  ]
  for (const [env, message] of cases) {
    const error = t.throws(() => loadConfig(env), ConfigError) as Error
    t.match(error.message, message)
    t.notMatch(error.message, /\n/, 'on one line')
    t.notMatch(error.message, keyBody.slice(0, 16), 'no part of the key')
  }
})

t.test('handoff check reports a malformed key as one line, exit 1', async t => {
  const cwd = t.testdir({})
  const { code, stdout, stderr } = await runCli(['check'], { cwd, env: { DATA_DIR: path.join(cwd, 'data'), ...base, APPLE_PRIVATE_KEY: oneLine.replace(keyBody.slice(4, 40), '') } })
  t.equal(code, 1)
  t.equal(stderr, 'handoff: Invalid setting APPLE_PRIVATE_KEY: is not a readable PEM private key (a truncated or altered .p8 file?)\n')
  t.notMatch(stdout + stderr, keyBody.slice(0, 16))

  const good = await runCli(['check'], { cwd, env: { DATA_DIR: path.join(cwd, 'data'), ...base, APPLE_PRIVATE_KEY: oneLine } })
  t.equal(good.code, 0, good.stderr)
  t.match(good.stdout, 'provider  apple: callback http://localhost:3000/auth/apple/callback\n')
})

t.test('the client secret: ES256 over the team key, kid, iss, sub, aud, one day; renewed with less than an hour left', async t => {
  let now = Date.UTC(2026, 10, 23, 12) // milliseconds
  const source = clientSecretSource({ teamId: 'TEAM123456', keyId: 'KEY1234567', clientId: 'com.example.web', privateKey: team.privateKey }, () => now)
  const first = await source.get()
  t.same(decodeProtectedHeader(first), { alg: 'ES256', kid: 'KEY1234567' })
  const claims = decodeJwt(first)
  t.same(claims, { iss: 'TEAM123456', sub: 'com.example.web', aud: 'https://appleid.apple.com', iat: now / 1000, exp: now / 1000 + CLIENT_SECRET_LIFETIME_SECONDS })
  await t.resolves(jwtVerify(first, team.publicKey, { currentDate: new Date(now) }), 'signed by the team key')

  now += (CLIENT_SECRET_LIFETIME_SECONDS - 3601) * 1000
  t.equal(await source.get(), first, 'cached while more than an hour is left')
  now += 2000
  const second = await source.get()
  t.not(second, first, 'renewed with less than an hour left, before Apple would refuse it')
  t.equal(decodeJwt(second).iat, now / 1000)
  t.equal(await source.get(), second)

  const [a, b] = await Promise.all([source.get(), source.get()])
  t.equal(a, b, 'concurrent callers share one')
})
