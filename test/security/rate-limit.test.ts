import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
const check = (app: App, i: number) => app.inject({ url: '/auth/nickname/availability', query: { nickname: `name${i}` } })

t.test('limits trip, answer 429 rate_limited, and reset after the window', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '3', RATE_LIMIT_WINDOW_SECONDS: '1' })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject('/auth/dev/login')).statusCode)
  t.same(statuses, [200, 200, 200, 429])
  const limited = await app.inject('/auth/dev/login')
  t.equal(limited.json().code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) >= 0, 'says when to retry')
  await new Promise(resolve => setTimeout(resolve, 1100))
  t.equal((await app.inject('/auth/dev/login')).statusCode, 200, 'the window passed: allowed again')
})

t.test('every sensitive route is limited', async t => {
  const limits = { RATE_LIMIT_LOGIN_PER_MINUTE: '1', RATE_LIMIT_EXCHANGE_PER_MINUTE: '1', RATE_LIMIT_REFRESH_PER_MINUTE: '1', RATE_LIMIT_NICKNAME_PER_MINUTE: '1' }
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true', ...limits })
  const routes: Array<{ method: 'GET' | 'POST', url: string, payload?: object }> = [
    { method: 'GET', url: '/auth/dev/login' },
    { method: 'POST', url: '/auth/dev/callback', payload: { state: 'x' } },
    { method: 'POST', url: '/auth/exchange', payload: { code: 'A'.repeat(43) } },
    { method: 'POST', url: '/auth/signup', payload: { nickname: 'someone' } },
    { method: 'POST', url: '/auth/refresh' },
    { method: 'GET', url: '/auth/nickname/availability?nickname=abc' }
  ]
  for (const route of routes) {
    const send = () => app.inject({ ...route, headers: { 'x-requested-with': 'fetch' } })
    await send()
    t.equal((await send()).statusCode, 429, `${route.method} ${route.url}`)
  }
})

t.test('RATE_LIMIT_ENABLED=false turns limits off', async t => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_NICKNAME_PER_MINUTE: '1', RATE_LIMIT_ENABLED: 'false' })
  for (let i = 0; i < 3; i++) t.equal((await check(app, i)).statusCode, 200)
})

// Redis runs on CI's machine; a fresh machine without it skips this one test, saying so.
const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 })
const redisReachable = await redis.connect().then(() => true, () => { redis.disconnect(); return false })

t.test('with REDIS_URL, two instances share one limit', { skip: redisReachable ? false : `no Redis at ${REDIS_URL}` }, async t => {
  const prefix = `handoff-test-${randomBytes(4).toString('hex')}:`
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_NICKNAME_PER_MINUTE: '4' }
  const first = await buildTestApp(t, env)
  const second = await buildTestApp(t, env)
  const statuses = []
  for (let i = 0; i < 6; i++) statuses.push((await check(i % 2 === 0 ? first.app : second.app, i)).statusCode)
  t.same(statuses, [200, 200, 200, 200, 429, 429], 'four requests in all, whichever instance serves them')
  t.ok((await redis.keys(`${prefix}*`)).length > 0, 'the counters live in Redis')
})
