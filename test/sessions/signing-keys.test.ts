import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../src/config.js'

const pem = (type: 'ec' | 'ed25519') => (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519'))
  .privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

t.test('JWT_PRIVATE_KEYS: PEM blocks or JWKs, the first signs, kids kept or derived', async t => {
  const [a, b] = [pem('ec'), pem('ec')]
  const fromPem = loadConfig({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: `${a}\n${b}` }).jwtPrivateKeys
  t.equal(fromPem.length, 2)
  t.match(fromPem[0].kid, /^[\w-]{43}$/, 'an RFC 7638 thumbprint')
  const oneLine = loadConfig({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: a.replaceAll('\n', '\\n') }).jwtPrivateKeys
  t.equal(oneLine[0].kid, fromPem[0].kid, '\\n escapes, as a one-line .env value needs')

  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const fromJwks = loadConfig({ JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: JSON.stringify({ keys: [{ ...jwk, kid: '2026-11' }] }) }).jwtPrivateKeys
  t.equal(fromJwks[0].kid, '2026-11')
  t.notOk('d' in fromJwks[0].publicJwk, 'the published half has no private member')
})

t.test('bad signing settings stop the server with one line naming the setting', async t => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['unknown algorithm', { JWT_ALGORITHM: 'RS256' }, /^Invalid setting JWT_ALGORITHM: must be one of HS256, ES256, EdDSA$/],
    ['keys with HS256', { JWT_PRIVATE_KEYS: pem('ec') }, /^Invalid setting JWT_PRIVATE_KEYS: is only used with JWT_ALGORITHM=ES256 or EdDSA$/],
    ['wrong key type', { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: pem('ed25519') }, /^Invalid setting JWT_PRIVATE_KEYS: ES256 needs an EC P-256 key/],
    ['not a key', { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: 'hunter2' }, /^Invalid setting JWT_PRIVATE_KEYS: expected PEM private keys/],
    ['production without keys', { NODE_ENV: 'production', PUBLIC_URL: 'https://api.example', JWT_ALGORITHM: 'ES256' }, /^Invalid setting JWT_PRIVATE_KEYS: is required in production with JWT_ALGORITHM=ES256$/]
  ]
  for (const [name, env, message] of cases) t.throws(() => loadConfig(env), { name: 'ConfigError', message }, name)
  t.doesNotThrow(() => loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://api.example', JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: pem('ed25519') }), 'production: keys stand in for JWT_SECRET')
})
