import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { onPostgres } from '../helpers/database.js'
import { browse, newBrowser } from '../helpers/login.js'

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** Through the dev provider to the exchange of a first-time identity: the browser holds a signup cookie. */
async function reachSignup (app: App, identity: Record<string, string | undefined> = {}) {
  const browser = newBrowser()
  const page = await browse(app, browser, '/auth/dev/login')
  const state = /name="state" value="([^"]+)"/.exec(page.body)?.[1] as string
  const id = identity.id ?? 'first-timer'
  const fields = Object.fromEntries(Object.entries({ state, decision: 'allow', id, nickname: '길동', name: '홍길동', email: `${id}@example.com`, ...identity })
    .filter((entry): entry is [string, string] => entry[1] !== undefined))
  const callback = await browse(app, browser, '/auth/dev/callback', { method: 'POST', payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const code = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1)).get('code')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code } })
  return { browser, exchange }
}

const signup = (app: App, browser: ReturnType<typeof newBrowser>, nickname: unknown) =>
  browse(app, browser, '/auth/signup', { method: 'POST', payload: { nickname } })

t.test('a first-time user gets an account only through a valid nickname', async t => {
  const { app, config } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const { browser, exchange } = await reachSignup(app)
  t.same(exchange.json(), { status: 'signup_required', profile: { suggestedNickname: '길동', name: '홍길동', email: 'first-timer@example.com', avatarUrl: null, provider: 'dev' } })
  const signupCookie = parseSetCookies(exchange).get('handoff_signup')
  t.ok(signupCookie?.attributes.has('httponly'), 'HttpOnly signup cookie')
  t.equal(signupCookie?.attributes.get('max-age'), String(config.signupTtlSeconds))
  t.equal(config.signupTtlSeconds, 600, '10 minutes by default')
  t.equal(signupCookie?.attributes.get('path'), '/auth')
  t.notOk(parseSetCookies(exchange).has('handoff_access'), 'no session cookies yet')
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'no user before the nickname')
  t.equal(await app.handoff.db.prisma.identity.count(), 0)

  for (const bad of ['x', 'admin', '12345', 'no spaces']) {
    const refused = await signup(app, browser, bad)
    t.equal(refused.statusCode, 400, `${bad}: 400`)
    t.match(refused.json().code, /^nickname_(invalid|reserved)$/)
  }
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'still no user after refused nicknames')

  const created = await signup(app, browser, ' 홍길동 ')
  t.equal(created.statusCode, 201)
  t.equal(created.json().status, 'authenticated')
  t.equal(created.json().user.nickname, '홍길동')
  const cookies = parseSetCookies(created)
  t.equal(cookies.get('handoff_signup')?.value, '', 'the signup cookie is cleared')
  t.ok(cookies.get('handoff_access')?.attributes.has('httponly'))
  t.ok(cookies.get('handoff_refresh')?.attributes.has('httponly'))
  t.equal((await browse(app, browser, '/auth/me')).json().user.nickname, '홍길동')

  const user = await app.handoff.db.prisma.user.findFirstOrThrow({ include: { identities: true } })
  t.match(user, { nickname: '홍길동', nicknameKey: '홍길동', email: null, emailVerified: false }, 'the dev provider vouches for no address')
  t.match(user.identities, [{ provider: 'dev', providerUserId: 'first-timer' }])
  t.ok((await app.handoff.db.prisma.pendingSignup.findFirstOrThrow()).usedAt, 'the pending signup is consumed')
})

t.test('without a valid signup cookie: 401; twice: the second is refused', async t => {
  const { app, clock } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const none = await app.inject({ method: 'POST', url: '/auth/signup', headers: { 'x-requested-with': 'fetch' }, payload: { nickname: 'nobody' } })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'signup_invalid')
  const forged = await app.inject({ method: 'POST', url: '/auth/signup', headers: { 'x-requested-with': 'fetch' }, payload: { nickname: 'nobody' }, cookies: { handoff_signup: 'A'.repeat(43) } })
  t.equal(forged.statusCode, 401, 'a forged signup cookie')

  const { browser } = await reachSignup(app)
  const stolen = await browser.cookie('handoff_signup', '/auth') as string
  t.equal((await signup(app, browser, 'first')).statusCode, 201)
  const again = await app.inject({ method: 'POST', url: '/auth/signup', headers: { 'x-requested-with': 'fetch' }, payload: { nickname: 'second' }, cookies: { handoff_signup: stolen } })
  t.equal(again.statusCode, 401, 'the same signup cookie cannot create a second account')
  t.equal(await app.handoff.db.prisma.user.count(), 1)

  const late = await reachSignup(app, { id: 'late-comer' })
  clock.advance(601)
  const expired = await signup(app, late.browser, 'latecomer')
  t.equal(expired.statusCode, 401, 'an expired signup cookie')
  t.equal(await app.handoff.db.prisma.user.count(), 1)
})

t.test('a taken nickname is 409, case-insensitively and across NFC/NFD, and the signup can retry', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  t.equal((await signup(app, (await reachSignup(app, { id: 'one' })).browser, 'OctoCat')).statusCode, 201)
  t.equal((await signup(app, (await reachSignup(app, { id: 'two' })).browser, '홍길동')).statusCode, 201)
  const { browser, exchange } = await reachSignup(app, { id: 'three', nickname: 'octocat' })
  t.not(exchange.json().profile.suggestedNickname.toLowerCase(), 'octocat', 'the suggestion avoids a taken nickname')
  t.match(exchange.json().profile.suggestedNickname, /^octocat_\d+$/)
  for (const taken of ['octocat', 'OCTOCAT', '\u1112\u1169\u11BC\u1100\u1175\u11AF\u1103\u1169\u11BC']) {
    const conflict = await signup(app, browser, taken)
    t.equal(conflict.statusCode, 409, `${taken}: 409`)
    t.equal(conflict.json().code, 'nickname_taken')
  }
  t.equal((await signup(app, browser, 'octocat2')).statusCode, 201, 'the same signup cookie works with a free nickname')
  t.equal(await app.handoff.db.prisma.user.count(), 3)
})

t.test(`two people racing for one nickname: one 201, the other 409 (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const racers = await Promise.all(Array.from({ length: 8 }, (_, i) => reachSignup(app, { id: `racer-${i}` })))
  const results = await Promise.all(racers.map(({ browser }) => signup(app, browser, 'winner')))
  const statuses = results.map(result => result.statusCode).sort()
  t.same(statuses, [201, ...Array(7).fill(409)])
  t.equal(await app.handoff.db.prisma.user.count({ where: { nicknameKey: 'winner' } }), 1)
  t.equal(await app.handoff.db.prisma.user.count(), 1, 'the losers have no half-created account')
  t.equal(await app.handoff.db.prisma.identity.count(), 1)
})

t.test('finishing the same identity\'s signup in two tabs ends with one account', async t => {
  const { app } = await buildTestApp(t, { DEV_LOGIN: 'true' })
  const tabA = await reachSignup(app, { id: 'same-person' })
  const tabB = await reachSignup(app, { id: 'same-person' })
  t.equal((await signup(app, tabA.browser, 'tab_a')).statusCode, 201)
  const second = await signup(app, tabB.browser, 'tab_b')
  t.equal(second.statusCode, 200, 'the second tab signs in to the account the first created')
  t.equal(second.json().user.nickname, 'tab_a')
  t.equal(await app.handoff.db.prisma.user.count(), 1)
})
