import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser } from '../helpers/login.js'

// Behind a proxy the client's address is the right-most X-Forwarded-For entry the trusted proxies
// appended; everything left of it was written by the client. The forged address must key nothing.

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']
const REAL = '203.0.113.7'

/** A nickname check as the proxy forwards it: the client's own header, then the address the proxy saw. */
const check = (app: App, forwardedFor: string, remoteAddress = '127.0.0.1') =>
  app.inject({ url: '/auth/nickname/availability?nickname=someone', remoteAddress, headers: { 'x-forwarded-for': forwardedFor } })

/** Signs in with GitHub, every request carrying this X-Forwarded-For; returns the sessions list. */
async function sessionsAfterLogin (app: App, forwardedFor: string) {
  const headers = { 'x-forwarded-for': forwardedFor }
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') }, headers })
  await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: exchange.json().profile.suggestedNickname }, headers })
  return (await browse(app, browser, '/auth/sessions', { headers })).json().sessions as Array<{ ip: string | null }>
}

t.test('TRUST_PROXY: false, a hop count or a list of proxy addresses; one line naming the setting otherwise', async t => {
  t.equal(loadConfig({}).trustProxy, false, 'false by default')
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true, 'true is kept (it warns at start)')
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1)
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1'])
  t.same(loadConfig({ TRUST_PROXY: ' 173.245.48.0/20, 2400:cb00::/32 ,::1, loopback' }).trustProxy, ['173.245.48.0/20', '2400:cb00::/32', '::1', 'loopback'])
  for (const bad of ['yes', '0', '-1', '1.5', '10.0.0.0/33', '10.0.0.300', '2400:cb00::/129', 'nginx', '10.0.0.0/8,,127.0.0.1', '']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), new ConfigError(`Invalid setting TRUST_PROXY: must be false, a hop count (1, 2…) or a comma-separated list of proxy addresses or CIDRs (10.0.0.0/8,127.0.0.1), not "${bad}"`), `"${bad}"`)
  }
})

t.test('TRUST_PROXY=1: a forged left-most X-Forwarded-For does not escape the rate limit', async t => {
  const { app } = await buildTestApp(t, { TRUST_PROXY: '1', RATE_LIMIT_NICKNAME_PER_MINUTE: '3' })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await check(app, `1.2.3.${i}, ${REAL}`)).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429], 'a new forged address each time, still one client')
  t.equal((await check(app, REAL)).statusCode, 429, 'without the forged part: the same client')
  t.equal((await check(app, '1.2.3.4, 198.51.100.2')).statusCode, 200, 'another client behind the same proxy has its own limit')
})

t.test('TRUST_PROXY=1: the sessions list shows the address the proxy saw, not the forged one', async t => {
  const { app } = await buildTestApp(t, { ...github.env, TRUST_PROXY: '1' })
  const sessions = await sessionsAfterLogin(app, `6.6.6.6, ${REAL}`)
  t.same(sessions.map(session => session.ip), [REAL])
})

t.test('TRUST_PROXY=2: Cloudflare, then a load balancer; the hop before them is the client', async t => {
  const { app } = await buildTestApp(t, { ...github.env, TRUST_PROXY: '2' })
  const sessions = await sessionsAfterLogin(app, `6.6.6.6, ${REAL}, 172.70.1.1`)
  t.same(sessions.map(session => session.ip), [REAL])
})

t.test('TRUST_PROXY as a CIDR list: only the listed proxies are believed', async t => {
  const { app } = await buildTestApp(t, { ...github.env, TRUST_PROXY: '10.0.0.0/8,127.0.0.1', RATE_LIMIT_NICKNAME_PER_MINUTE: '2' })
  const sessions = await sessionsAfterLogin(app, `6.6.6.6, ${REAL}, 10.4.0.9`)
  t.same(sessions.map(session => session.ip), [REAL], 'past the trusted 10.0.0.0/8 hop to the first untrusted one')

  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await check(app, `1.2.3.${i}, ${REAL}, 10.4.0.9`)).statusCode)
  t.same(statuses, [200, 200, 429], 'forged entries left of the client key nothing')

  // A peer not on the list is the client itself, whatever header it sends.
  const direct = []
  for (let i = 0; i < 3; i++) direct.push((await check(app, `${REAL}, 10.0.0.${i}`, '198.51.100.9')).statusCode)
  t.same(direct, [200, 200, 429], 'an untrusted peer cannot borrow another address')
})

t.test('TRUST_PROXY=true still works, and says at start why it should not be used', async t => {
  const { logs } = await buildTestApp(t, { TRUST_PROXY: 'true' }, { logs: true })
  const warning = logs.find(line => line.level === 40 && String(line.msg).includes('TRUST_PROXY=true'))
  t.ok(warning, 'one warning at start')
  t.match(String(warning?.msg), /X-Forwarded-For.*forge/)
  t.match(String(warning?.msg), /TRUST_PROXY=1/, 'it says what to set instead')

  const quiet = await buildTestApp(t, { TRUST_PROXY: '1' }, { logs: true })
  t.notOk(quiet.logs.some(line => String(line.msg).includes('TRUST_PROXY')), 'no warning for a hop count')
})
