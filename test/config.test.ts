import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

const valid = { JWT_SECRET: 'x'.repeat(32) }

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

t.test('DEV_LOGIN only with a loopback PUBLIC_URL: the dev provider signs anyone in as anyone', async t => {
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
  t.equal(loadConfig({ PUBLIC_URL: 'https://api.example.com' }).devLogin, false, 'without DEV_LOGIN any PUBLIC_URL')
})

t.test('the database target: PGlite under DATA_DIR, or PostgreSQL with DATABASE_POOL_SIZE connections', async t => {
  const { databaseTarget } = await import('../src/plugins/database.js')
  t.match(databaseTarget(loadConfig({ DATA_DIR: '/srv/handoff' })), { kind: 'pglite', dataDir: '/srv/handoff/pglite' })
  t.same(databaseTarget(loadConfig({ DATABASE_URL: 'postgresql://db/handoff', DATABASE_POOL_SIZE: '4' })), { kind: 'postgres', url: 'postgresql://db/handoff', poolSize: 4 })
})

t.test('production with a secret is accepted', async t => {
  const config = loadConfig({ ...valid, NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', FRONTEND_URL: 'https://app.example.com/auth/done' })
  t.equal(config.frontendOrigin, 'https://app.example.com')
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
