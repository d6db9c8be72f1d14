import { generateKeyPairSync, randomBytes } from 'node:crypto'
import path from 'node:path'
import { OAuth2Server } from 'oauth2-mock-server'
import t from 'tap'
import { crossSiteOrigins, siteOf } from '../../src/cli/site.js'
import { parseTokenKeys } from '../../src/providers/token-vault.js'
import { freePort } from '../reliability/server-process.js'
import { runCli } from '../helpers/run-cli.js'

// `handoff check`: what a start would meet, reported without starting. Each problem is one line on
// stderr and makes the exit code 1; a warning does not.

const oidc = new OAuth2Server()
await oidc.issuer.keys.generate('RS256')
await oidc.start(0, '127.0.0.1')
t.teardown(() => oidc.stop())

const cwd = t.testdir({})
const base = { DATA_DIR: path.join(cwd, 'data'), PUBLIC_URL: 'http://localhost:3000' }

t.test('a working configuration: what it found, each provider\'s callback URL, exit 0', async t => {
  const { code, stdout, stderr } = await runCli(['check'], {
    cwd,
    env: { ...base, GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'github-secret', OIDC_ISSUER: String(oidc.issuer.url), OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'oidc-secret', FRONTEND_URL: 'http://localhost:5173/auth/done' }
  })
  t.equal(code, 0, stderr)
  t.equal(stderr, '')
  t.match(stdout, /^handoff \d+\.\d+\.\d+, NODE_ENV=development, settings from the environment\n/)
  t.match(stdout, `database  embedded (PGlite) in ${path.join(cwd, 'data', 'pglite')}, created from the seed at the first start`)
  t.match(stdout, 'provider  github: callback http://localhost:3000/auth/github/callback\n')
  t.match(stdout, 'provider  oidc: callback http://localhost:3000/auth/oidc/callback, discovery document read\n')
  t.match(stdout, 'frontend  http://localhost:5173/auth/done\n')
  t.match(stdout, 'docs      http://localhost:3000/docs\n')
  t.notMatch(stdout, 'warning', 'localhost:5173 and localhost:3000 are one site')
  t.notMatch(stdout, /github-secret|oidc-secret/)
  t.match(stdout, /no problems found\n$/)
})

t.test('every problem is one line on stderr, and the exit code is 1', async t => {
  const settings = await runCli(['check'], { cwd, env: { ...base, JWT_SECRET: 'short', PORT: 'eighty' } })
  t.equal(settings.code, 1)
  t.same(settings.stderr.trim().split('\n').map(line => line.replace(/:.*/, '')), ['handoff', 'handoff'], `one line per bad setting: ${settings.stderr}`)
  t.match(settings.stderr, /^handoff: Invalid setting PORT: .*\nhandoff: Invalid setting JWT_SECRET: /)

  const [closed, redisPort] = [await freePort(), await freePort()]
  const unreachable = await runCli(['check'], {
    cwd,
    env: { ...base, DATABASE_URL: `postgresql://handoff:db-password@127.0.0.1:${closed}/handoff`, REDIS_URL: `redis://:redis-password@127.0.0.1:${redisPort}`, OIDC_ISSUER: `http://127.0.0.1:${closed}`, OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret', PROVIDER_TIMEOUT_MS: '1000' }
  })
  t.equal(unreachable.code, 1)
  const problems = unreachable.stderr.trim().split('\n')
  t.equal(problems.length, 3, unreachable.stderr)
  t.ok(problems.every(line => line.startsWith('handoff: ')), 'each line names the program')
  t.match(unreachable.stderr, `handoff: database PostgreSQL 127.0.0.1:${closed}/handoff not reachable: `)
  t.match(unreachable.stderr, `handoff: Redis 127.0.0.1:${redisPort} (REDIS_URL) not reachable: `)
  t.match(unreachable.stderr, /handoff: Invalid setting OIDC_ISSUER: discovery failed/)
  t.notMatch(unreachable.stdout + unreachable.stderr, /db-password|redis-password/)
  t.notMatch(unreachable.stdout, 'no problems found')
})

t.test('a frontend on another site: a warning pointing to the setups that work, exit 0', async t => {
  const { code, stdout } = await runCli(['check'], { cwd, env: { ...base, DEV_LOGIN: 'true', FRONTEND_URL: 'http://127.0.0.1:5173/' } })
  t.equal(code, 0)
  t.match(stdout, 'warning: the frontend http://127.0.0.1:5173 and this server (http://localhost:3000) are on different sites: Safari and Firefox drop the session cookies')
  t.match(stdout, '"Where the frontend lives" in docs/deployment.md')
  t.match(stdout, 'provider  dev: http://localhost:3000/auth/dev/login (DEV_LOGIN)')
  t.notMatch(stdout, 'no login provider', 'the dev provider counts')
})

t.test('Kakao and Naver: the unlink webhook URLs to register, and what is off without KAKAO_ADMIN_KEY', async t => {
  const providers = { KAKAO_CLIENT_ID: 'kakao-rest-key', NAVER_CLIENT_ID: 'naver-id', NAVER_CLIENT_SECRET: 'naver-secret' }
  const without = await runCli(['check'], { cwd, env: { ...base, ...providers } })
  t.equal(without.code, 0, without.stderr)
  t.match(without.stdout, 'unlink    kakao: KAKAO_ADMIN_KEY is not set, so deleting an account does not unlink it at Kakao')
  t.match(without.stdout, 'unlink    naver: webhook http://localhost:3000/auth/naver/unlink\n')
  t.notMatch(without.stdout, '/auth/kakao/unlink')

  const withKey = await runCli(['check'], { cwd, env: { ...base, ...providers, KAKAO_ADMIN_KEY: 'kakao-admin-key', KAKAO_APP_ID: '1234567' } })
  t.equal(withKey.code, 0, withKey.stderr)
  t.match(withKey.stdout, 'unlink    kakao: webhook http://localhost:3000/auth/kakao/unlink\n')
  t.notMatch(withKey.stdout, 'KAKAO_ADMIN_KEY is not set')
  t.notMatch(withKey.stdout, /kakao-admin-key|naver-secret/, 'no secret printed')
})

t.test('native apps: the redirect URIs apps may end at, and whose SDK tokens POST /auth/:provider/token takes', async t => {
  const appleKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const env = {
    ...base,
    NATIVE_REDIRECT_URIS: 'com.example.app:/oauth, http://127.0.0.1/callback',
    KAKAO_CLIENT_ID: 'kakao-rest-key',
    KAKAO_NATIVE_APP_KEYS: 'native-key-1,js-key-2',
    KAKAO_APP_ID: '1234567',
    APPLE_CLIENT_ID: 'com.example.web',
    APPLE_TEAM_ID: 'TEAM123456',
    APPLE_KEY_ID: 'KEY1234567',
    APPLE_PRIVATE_KEY: appleKey.trim().replace(/\n/g, '\\n'),
    APPLE_APP_IDS: 'com.example.ios'
  }
  const { code, stdout, stderr } = await runCli(['check'], { cwd, env })
  t.equal(code, 0, stderr)
  t.match(stdout, 'native    app redirects com.example.app:/oauth, http://127.0.0.1/callback (any port)\n')
  t.match(stdout, 'native    SDK sign-in (POST /auth/:provider/token): kakao (id_tokens for 2 app keys, access tokens of app 1234567); apple (identityTokens for com.example.ios)\n')
  t.notMatch(stdout, /native-key-1|js-key-2|PRIVATE KEY/, 'app keys are counted, not printed')

  const none = await runCli(['check'], { cwd, env: { ...base, KAKAO_CLIENT_ID: 'kakao-rest-key' } })
  t.notMatch(none.stdout, /^native/m, 'no native line without native settings')
})

t.test('no provider at all: a warning', async t => {
  const { code, stdout } = await runCli(['check'], { cwd, env: base })
  t.equal(code, 0)
  t.match(stdout, /^warning: no login provider is enabled: /m)
})

t.test('PROVIDER_TOKEN_KEYS: a malformed key is one problem naming the setting; production without it is a warning', async t => {
  const bad = await runCli(['check'], { cwd, env: { ...base, PROVIDER_TOKEN_KEYS: `${randomBytes(32).toString('base64')},c2hvcnQta2V5` } })
  t.equal(bad.code, 1)
  t.equal(bad.stderr, 'handoff: Invalid setting PROVIDER_TOKEN_KEYS: key 2 of 2 is not 32 bytes of base64 (openssl rand -base64 32)\n')
  t.notMatch(bad.stdout + bad.stderr, 'c2hvcnQta2V5', 'the key is not printed')

  const key = randomBytes(32).toString('base64')
  const good = await runCli(['check'], { cwd, env: { ...base, PROVIDER_TOKEN_KEYS: key } })
  t.equal(good.code, 0, good.stderr)
  t.match(good.stdout, `tokens    providers' tokens sealed (AES-256-GCM) with key ${parseTokenKeys(key)[0].id}\n`)
  t.notMatch(good.stdout, key)
  t.match((await runCli(['check'], { cwd, env: base })).stdout, 'tokens    providers\' tokens sealed (AES-256-GCM) with a key generated in DATA_DIR (development only)\n')

  const production = await runCli(['check'], { cwd, env: { ...base, NODE_ENV: 'production', JWT_SECRET: randomBytes(48).toString('base64'), PUBLIC_URL: 'https://api.example.com', FRONTEND_URL: 'https://api.example.com/app' } })
  t.equal(production.code, 0, production.stderr)
  t.match(production.stdout, 'tokens    providers\' tokens not kept (PROVIDER_TOKEN_KEYS unset)\n')
  t.match(production.stdout, /^warning: PROVIDER_TOKEN_KEYS is not set: no provider token is kept, so deleting an account \(or unlinking Naver or Apple\) cannot revoke the Naver or Apple grant/m)
})

t.test('sites: scheme and registrable domain, with the Public Suffix List\'s private part', async t => {
  const cases: Array<[string, string]> = [
    ['https://app.example.com', 'https://example.com'],
    ['https://auth.example.co.kr', 'https://example.co.kr'],
    ['https://myapp.vercel.app', 'https://myapp.vercel.app'],
    ['http://localhost:5173', 'http://localhost'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1'],
    ['http://[::1]:3000', 'http://[::1]']
  ]
  for (const [origin, site] of cases) t.equal(siteOf(origin), site, origin)
  t.same(crossSiteOrigins('https://auth.example.com', ['https://app.example.com', 'http://app.example.com', 'https://myapp.vercel.app', 'https://example.com']), ['http://app.example.com', 'https://myapp.vercel.app'])
})
