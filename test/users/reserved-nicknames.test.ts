import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, newBrowser } from '../helpers/login.js'

// Look-alikes of reserved names (Cyrillic letters, separators, digits for letters) are refused as
// reserved on every route that takes a nickname, not accepted and not merely "invalid".

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** Through the dev provider to the exchange of a first-time identity: the browser holds a signup cookie. */
async function reachSignup (app: App, id: string) {
  const browser = newBrowser()
  const page = await browse(app, browser, '/auth/dev/login')
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const fields = { state, decision: 'allow', id, nickname: id, name: id }
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  if (exchange.json().status !== 'signup_required') throw new Error(`exchange answered ${exchange.body}`)
  return browser
}

const LOOK_ALIKES = ['\u0410dmin', '_admin', 'admin.', 'adm1n', 'ADMIN', '운영_자']

t.test('POST /auth/signup refuses look-alikes of reserved names with 400 nickname_reserved', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const browser = await reachSignup(app, 'first-timer')
  for (const nickname of LOOK_ALIKES) {
    const refused = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname } })
    t.equal(refused.statusCode, 400, `${JSON.stringify(nickname)}: 400`)
    t.equal(refused.json().code, 'nickname_reserved', `${JSON.stringify(nickname)}: nickname_reserved`)
  }
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'no account was created')
  const created = await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'administrator_kim' } })
  t.equal(created.statusCode, 201, 'a name that only contains a reserved word is fine')
})

t.test('PATCH /users/me refuses look-alikes of reserved names with 400 nickname_reserved', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const browser = await reachSignup(app, 'renamer')
  t.equal((await browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname: 'renamer' } })).statusCode, 201)
  for (const nickname of LOOK_ALIKES) {
    const refused = await browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname } })
    t.equal(refused.statusCode, 400, `${JSON.stringify(nickname)}: 400`)
    t.equal(refused.json().code, 'nickname_reserved', `${JSON.stringify(nickname)}: nickname_reserved`)
  }
  t.same((await app.handoff.db.prisma.user.findMany()).map(user => user.nickname), ['renamer'], 'the nickname did not change')
})

t.test('GET /auth/nickname/availability answers reason "reserved" for look-alikes', async t => {
  const { app } = await buildTestApp(t)
  const check = async (nickname: string) => (await app.inject({ url: '/auth/nickname/availability', query: { nickname } })).json()
  for (const nickname of [...LOOK_ALIKES, 'r00t']) {
    t.match(await check(nickname), { available: false, reason: 'reserved' }, JSON.stringify(nickname))
  }
  t.match(await check('adminkim'), { nickname: 'adminkim', available: true })
})
