import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { parsePrivateKeys } from '../../src/sessions/signing-keys.js'
import { buildTestApp } from '../helpers/build-app.js'
import { startServer, stopServer } from '../reliability/server-process.js'

const pem = (type: 'ec' | 'ed25519') => (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519'))
  .privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

t.test('JWT_PRIVATE_KEYS: PEM blocks or JWKs, the first signs, kids kept or derived', async t => {
  const [a, b] = [pem('ec'), pem('ec')]
  const fromPem = parsePrivateKeys(`${a}\n${b}`, 'ES256')
  t.equal(fromPem.length, 2)
  t.match(fromPem[0].kid, /^[\w-]{43}$/, 'an RFC 7638 thumbprint')
  const oneLine = parsePrivateKeys(a.replaceAll('\n', '\\n'), 'ES256')
  t.equal(oneLine[0].kid, fromPem[0].kid, '\\n escapes, as a one-line .env value needs')

  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const fromJwks = parsePrivateKeys(JSON.stringify({ keys: [{ ...jwk, kid: '2026-11' }] }), 'EdDSA')
  t.equal(fromJwks[0].kid, '2026-11')
  t.notOk('d' in fromJwks[0].publicJwk, 'the published half has no private member')
})

t.test('the settings keep JWT_PRIVATE_KEYS as given; the app parses it when it starts', async t => {
  const key = pem('ed25519')
  t.equal(loadConfig({ JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: key }).jwtPrivateKeys, key)
  t.doesNotThrow(() => loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://api.example', JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: key }), 'production: keys stand in for JWT_SECRET')
})

t.test('bad signing settings stop the server with one line naming the setting', async t => {
  const atLoad: Array<[string, Record<string, string>, RegExp]> = [
    ['unknown algorithm', { JWT_ALGORITHM: 'RS256' }, /^Invalid setting JWT_ALGORITHM: must be one of HS256, ES256, EdDSA$/],
    ['keys with HS256', { JWT_PRIVATE_KEYS: pem('ec') }, /^Invalid setting JWT_PRIVATE_KEYS: is only used with JWT_ALGORITHM=ES256 or EdDSA$/],
    ['production without keys', { NODE_ENV: 'production', PUBLIC_URL: 'https://api.example', JWT_ALGORITHM: 'ES256' }, /^Invalid setting JWT_PRIVATE_KEYS: is required in production with JWT_ALGORITHM=ES256$/]
  ]
  for (const [name, env, message] of atLoad) t.throws(() => loadConfig(env), { name: 'ConfigError', message }, name)
  // Parsed when the app starts: the same one-line ConfigError, from buildApp.
  const atStart: Array<[string, Record<string, string>, RegExp]> = [
    ['wrong key type', { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: pem('ed25519') }, /^Invalid setting JWT_PRIVATE_KEYS: ES256 needs an EC P-256 key[^\n]*$/],
    ['not a key', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: 'hunter2' }, /^Invalid setting JWT_PRIVATE_KEYS: expected PEM private keys[^\n]*$/],
    ['an empty JWKS', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: '{"keys":[]}' }, /^Invalid setting JWT_PRIVATE_KEYS: no key in the JSON$/]
  ]
  for (const [name, env, message] of atStart) await t.rejects(buildTestApp(t, env), { name: 'ConfigError', message }, name)
})

t.test('the server process with a JWT_PRIVATE_KEYS that is no key: one line on stderr, no stack trace', async t => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'handoff-signing-keys-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const server = await startServer({ DATA_DIR: dataDir, JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: 'hunter2' }, { waitReady: false })
  t.teardown(() => stopServer(server))
  const { code } = await server.exited
  t.not(code, 0)
  const stderr = server.stderr().trim()
  t.equal(stderr.split('\n').length, 1, `one line: ${stderr.slice(0, 300)}`)
  t.match(stderr, /^handoff: Invalid setting JWT_PRIVATE_KEYS: expected PEM private keys/)
  t.notMatch(stderr + server.output(), 'hunter2', 'the setting\'s value is in no message')
})
