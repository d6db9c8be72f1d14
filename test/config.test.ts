import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

// Random (openssl rand -base64 32): production refuses a guessable secret.
const valid = { JWT_SECRET: 'nrMHWBzo3xzVxFJZDQo3k7E0B5Nso2B5xmdfthI0n7c' }
const production = { ...valid, NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', FRONTEND_URL: 'https://app.example.com/auth/done' }

t.test('defaults describe a development server on the embedded database', async t => {
  const config = loadConfig({})
  t.equal(config.nodeEnv, 'development')
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.publicUrl, 'http://localhost:3000')
  t.equal(config.frontendUrl, 'http://localhost:3000/')
  t.equal(config.databaseUrl, undefined)
  t.equal(config.dataDir, './data')
  t.equal(config.databasePoolSize, 10)
  t.equal(config.handoffCodeIn, 'fragment')
  t.equal(config.accessTokenTtlSeconds, 900)
  t.equal(config.loginCodeTtlSeconds, 60)
  t.equal(config.jwtSecret, undefined, 'generated later, outside production')
  t.equal(config.github, undefined)
  t.ok(Object.isFrozen(config))
})

t.test('GitHub settings and host overrides', async t => {
  const config = loadConfig({ GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret', GITHUB_WEB_URL: 'https://ghe.example.com/', GITHUB_API_URL: 'https://ghe.example.com/api/v3' })
  t.same(config.github, { clientId: 'id', clientSecret: 'secret', webUrl: 'https://ghe.example.com', apiUrl: 'https://ghe.example.com/api/v3' })
  t.equal(loadConfig({ GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 's' }).github?.apiUrl, 'https://api.github.com')
})

t.test('one clear message naming the bad setting', async t => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'Invalid setting PORT: must be integer'],
    [{ PORT: '70000' }, 'Invalid setting PORT: must be <= 65535'],
    [{ JWT_SECRET: 'short' }, 'Invalid setting JWT_SECRET: must NOT have fewer than 32 characters'],
    [{ NODE_ENV: 'production' }, 'Invalid setting JWT_SECRET: is required in production (at least 32 characters)'],
    [{ ...valid, NODE_ENV: 'production', DEV_LOGIN: 'true' }, 'Invalid setting DEV_LOGIN: the dev provider cannot be enabled in production'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'Invalid setting DATABASE_URL: must match pattern "^postgres(ql)?://"'],
    [{ FRONTEND_URL: 'not a url' }, 'Invalid setting FRONTEND_URL: must match pattern'],
    [{ HANDOFF_CODE_IN: 'cookie' }, 'Invalid setting HANDOFF_CODE_IN: must be one of fragment, query'],
    [{ GITHUB_CLIENT_ID: 'id' }, 'Invalid setting GITHUB_CLIENT_SECRET: is required when GITHUB_CLIENT_ID is set'],
    [{ LOGIN_CODE_TTL_SECONDS: '0' }, 'Invalid setting LOGIN_CODE_TTL_SECONDS: must be >= 5'],
    [{ MIGRATE_ON_START: 'maybe' }, 'Invalid setting MIGRATE_ON_START: must be boolean'],
    [{ DATABASE_POOL_SIZE: '0' }, 'Invalid setting DATABASE_POOL_SIZE: must be >= 1']
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), ConfigError, `${Object.keys(env).join(',')} throws a ConfigError`)
    try {
      loadConfig(env)
    } catch (error) {
      t.match((error as Error).message, message)
      t.notMatch((error as Error).message, /\n/, 'on one line')
    }
  }
})

t.test('DEV_LOGIN only with a loopback PUBLIC_URL and HOST: the dev provider signs anyone in as anyone', async t => {
  const refusal = (host: string) => new ConfigError(`Invalid setting DEV_LOGIN: the dev provider only runs on a loopback PUBLIC_URL (localhost, 127.0.0.0/8, ::1), not ${host}`)
  for (const [url, host] of [
    ['https://api.example.com', 'api.example.com'],
    ['http://api.test', 'api.test'],
    ['http://192.168.1.20:3000', '192.168.1.20'],
    ['http://0.0.0.0:3000', '0.0.0.0'],
    ['http://localhost.example.com', 'localhost.example.com'],
    ['http://127.0.0.1.nip.io', '127.0.0.1.nip.io'],
    ['http://[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
    ['http://[::2]', '[::2]']
  ]) {
    t.throws(() => loadConfig({ DEV_LOGIN: 'true', PUBLIC_URL: url }), refusal(host), url)
  }
  for (const url of ['http://localhost:3000', 'http://LOCALHOST', 'http://127.0.0.1:8080', 'http://127.9.8.7', 'http://[::1]:3000', 'https://localhost']) {
    t.equal(loadConfig({ DEV_LOGIN: 'true', PUBLIC_URL: url }).devLogin, true, `${url} is loopback`)
  }
  t.equal(loadConfig({ DEV_LOGIN: 'true' }).devLogin, true, 'the default PUBLIC_URL (http://localhost:PORT) is loopback')
  // A loopback PUBLIC_URL on a server that listens on every interface (a container, a tunnel).
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.com']) {
    t.throws(() => loadConfig({ DEV_LOGIN: 'true', HOST: host }),
      new ConfigError(`Invalid setting DEV_LOGIN: the dev provider only runs on a server listening on loopback (HOST=127.0.0.1, localhost or ::1), not ${host}`), `HOST=${host}`)
  }
  for (const host of ['127.0.0.1', 'localhost', '::1']) t.equal(loadConfig({ DEV_LOGIN: 'true', HOST: host }).devLogin, true, `HOST=${host} is loopback`)
  t.equal(loadConfig({ PUBLIC_URL: 'https://api.example.com' }).devLogin, false, 'without DEV_LOGIN any PUBLIC_URL')
})

t.test('the database target: PGlite under DATA_DIR, or PostgreSQL with DATABASE_POOL_SIZE connections', async t => {
  const { databaseTarget } = await import('../src/db/database.js')
  t.match(databaseTarget(loadConfig({ DATA_DIR: '/srv/handoff' })), { kind: 'pglite', dataDir: '/srv/handoff/pglite' })
  t.same(databaseTarget(loadConfig({ DATABASE_URL: 'postgresql://db/handoff', DATABASE_POOL_SIZE: '4' })), { kind: 'postgres', url: 'postgresql://db/handoff', poolSize: 4 })
})

t.test('production with a secret is accepted', async t => {
  const config = loadConfig({ ...valid, NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', FRONTEND_URL: 'https://app.example.com/auth/done' })
  t.equal(config.frontendOrigin, 'https://app.example.com')
})

t.test('production refuses a guessable JWT_SECRET, not only a short one', async t => {
  const guessable = 'Invalid setting JWT_SECRET: too easy to guess for production (needs an estimated 128 bits of entropy, by characters and by steps between them, and 10 distinct characters; generate one with: openssl rand -base64 32)'
  for (const secret of ['a'.repeat(48), 'x'.repeat(32), 'abc'.repeat(16), '0123456789'.repeat(4), 'abcdefghijklmnopqrstuvwxyz012345', 'changeme-changeme-changeme-changeme', 'passwordpasswordpasswordpassword']) {
    t.throws(() => loadConfig({ ...production, JWT_SECRET: secret }), new ConfigError(guessable), secret)
  }
  t.equal(loadConfig({ ...production, JWT_SECRET: 'q9LkRr3ZxD0b7sWmT1vY8uNc2HfGe5Jp' }).jwtSecret, 'q9LkRr3ZxD0b7sWmT1vY8uNc2HfGe5Jp', 'a random 32-character secret')
  t.equal(loadConfig({ ...production, JWT_SECRET: 'b'.repeat(48), NODE_ENV: 'development' }).nodeEnv, 'development', 'outside production only the length counts')

  const previous = 'Invalid setting JWT_PREVIOUS_SECRETS: secret 2 is too easy to guess for production (needs an estimated 128 bits of entropy, by characters and by steps between them, and 10 distinct characters); tokens it signed can be forged: drop it'
  t.throws(() => loadConfig({ ...production, JWT_PREVIOUS_SECRETS: `${'f3a9'.repeat(16)},${'z'.repeat(40)}` }), new ConfigError(previous.replace('secret 2', 'secret 1')))
  t.throws(() => loadConfig({ ...production, JWT_PREVIOUS_SECRETS: `5f0c2e8a91b47d36e0a9c4f18b2d7e53a6c1f09e4b8d2a7c3e5f1b0d9a6c4e82,${'z'.repeat(40)}` }), new ConfigError(previous))
  t.same(loadConfig({ ...production, JWT_PREVIOUS_SECRETS: '5f0c2e8a91b47d36e0a9c4f18b2d7e53a6c1f09e4b8d2a7c3e5f1b0d9a6c4e82' }).jwtPreviousSecrets, ['5f0c2e8a91b47d36e0a9c4f18b2d7e53a6c1f09e4b8d2a7c3e5f1b0d9a6c4e82'], 'a random 64-hex secret')
})

t.test('production refuses an http frontend, unless ALLOW_INSECURE_HTTP=true', async t => {
  t.throws(() => loadConfig({ ...production, FRONTEND_URL: 'http://app.example.com/auth/done' }),
    new ConfigError('Invalid setting FRONTEND_URL: must be https in production (the one-time code travels to it); set ALLOW_INSECURE_HTTP=true to override'))
  t.throws(() => loadConfig({ ...production, FRONTEND_ORIGINS: 'https://admin.example.com, http://legacy.example.com' }),
    new ConfigError('Invalid setting FRONTEND_ORIGINS: http://legacy.example.com must be https in production (it is trusted with the session cookies); set ALLOW_INSECURE_HTTP=true to override'))
  const insecure = loadConfig({ ...production, FRONTEND_URL: 'http://app.example.com/auth/done', FRONTEND_ORIGINS: 'http://legacy.example.com', ALLOW_INSECURE_HTTP: 'true' })
  t.same(insecure.allowedOrigins, ['http://app.example.com', 'http://legacy.example.com'], 'ALLOW_INSECURE_HTTP=true overrides')
  t.same(loadConfig({ ...production, FRONTEND_ORIGINS: 'https://admin.example.com' }).allowedOrigins, ['https://app.example.com', 'https://admin.example.com'])
  t.equal(loadConfig({ FRONTEND_URL: 'http://localhost:5173/' }).frontendOrigin, 'http://localhost:5173', 'outside production http is fine')
})

t.test('production refuses HANDOFF_CODE_IN=query with BIND_CODE_TO_BROWSER=false', async t => {
  t.throws(() => loadConfig({ ...production, HANDOFF_CODE_IN: 'query', BIND_CODE_TO_BROWSER: 'false' }),
    new ConfigError('Invalid setting HANDOFF_CODE_IN: "query" needs BIND_CODE_TO_BROWSER=true in production (a code in the query string reaches server logs and browser history, and an unbound code works in any browser)'))
  t.equal(loadConfig({ ...production, HANDOFF_CODE_IN: 'query' }).handoffCodeIn, 'query', 'query with the binding cookie')
  t.equal(loadConfig({ ...production, BIND_CODE_TO_BROWSER: 'false' }).bindCodeToBrowser, false, 'no binding with the code in the fragment')
  t.equal(loadConfig({ HANDOFF_CODE_IN: 'query', BIND_CODE_TO_BROWSER: 'false' }).handoffCodeIn, 'query', 'outside production')
})

t.test('.env is read when asked, and the environment wins over it', async t => {
  const dir = t.testdir({ '.env': 'PORT=4000\nHOST=0.0.0.0\n' })
  const previous = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(previous))
  const config = loadConfig({ HOST: '127.0.0.2' }, { dotenv: true })
  t.equal(config.port, 4000)
  t.equal(config.host, '127.0.0.2')
  t.equal(loadConfig({}).port, 3000, 'not read unless asked')
})
