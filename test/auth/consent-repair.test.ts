import { createHash } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { startFakeNaver } from '../fakes/naver.js'
import { buildTestApp, FRONTEND_URL } from '../helpers/build-app.js'
import { parseSetCookies, type Browser } from '../helpers/cookies.js'
import { browse, newBrowser, signInWithDev } from '../helpers/login.js'
import { resetKakao, resetNaver } from '../helpers/provider-resets.js'
import { storedProfile } from '../helpers/stored-profile.js'

// Consent repair (KAKAO_REQUIRED_FIELDS, NAVER_REQUIRED_FIELDS): a profile without a required field
// sends the browser back to the provider once (Kakao: an additional consent for those items; Naver:
// auth_type=reprompt); still without it, the login ends with error=provider_consent_missing and
// missing=<fields>, and nothing is written.

const kakao = await startFakeKakao()
const naver = await startFakeNaver()
t.teardown(async () => { await Promise.all([kakao.close(), naver.close()]) })
t.beforeEach(() => {
  resetKakao(kakao)
  resetNaver(naver)
  kakao.requests.length = 0
  naver.requests.length = 0
})

const VERIFIER = 'a'.repeat(43)
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

interface Rounds {
  /** Each callback's response, in order: all but the last send the browser back to the provider. */
  callbacks: LightMyRequestResponse[]
  /** The handoff parameters the last callback sent the frontend. */
  params: URLSearchParams
}

/**
 * A browser from an authorize URL through the provider (the fake decides) to our callback, and again
 * while the callback sends it back to the provider. `beforeRound` runs before each visit to the provider.
 */
async function followRounds (app: FastifyInstance, browser: Browser, authorizeUrl: string, beforeRound: (round: number) => void = () => {}): Promise<Rounds> {
  const callbacks: LightMyRequestResponse[] = []
  let next = authorizeUrl
  for (let round = 1; round <= 3; round++) {
    beforeRound(round)
    const authorize = await fetch(next, { redirect: 'manual' })
    const callbackUrl = new URL(String(authorize.headers.get('location')))
    if (callbackUrl.origin !== browser.origin) throw new Error(`the provider answered ${authorize.status}: ${await authorize.text()}`)
    const response = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
    callbacks.push(response)
    const location = new URL(String(response.headers.location))
    if (location.origin + location.pathname === FRONTEND_URL) return { callbacks, params: new URLSearchParams(location.hash.slice(1)) }
    next = location.toString()
  }
  throw new Error('the callback sent the browser back to the provider more than twice')
}

async function loginRounds (app: FastifyInstance, browser: Browser, provider: string, query = '', beforeRound?: (round: number) => void): Promise<Rounds> {
  const start = await browse(app, browser, `/auth/${provider}/login${query}`)
  return followRounds(app, browser, String(start.headers.location), beforeRound)
}

async function expectNothingWritten (t: Test, app: FastifyInstance): Promise<void> {
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'no user')
  t.equal(await app.handoff.db.prisma.identity.count(), 0, 'no identity')
  t.equal(await app.handoff.db.prisma.loginCode.count(), 0, 'no login code')
}

t.test('Kakao: an unticked email is asked again once as an additional consent; the login then completes with returnTo and code_challenge', async t => {
  kakao.declines = [['account_email']]
  const { app, config } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email' })
  const browser = newBrowser()
  let writtenAfterFirstRound = -1
  const { callbacks, params } = await loginRounds(app, browser, 'kakao', `?returnTo=%2Fwelcome&code_challenge=${CHALLENGE}&code_challenge_method=S256`, async round => {
    if (round === 2) writtenAfterFirstRound = await app.handoff.db.prisma.loginCode.count()
  })
  t.equal(callbacks.length, 2, 'two rounds')

  const [first, second] = kakao.requests.filter(request => request.path === '/oauth/authorize')
  t.equal(first.query.scope, 'profile_nickname,profile_image,account_email', 'a required field\'s consent item is asked for from the start')
  t.equal(second.query.scope, 'account_email', 'the repair round asks for the missing item only')
  t.not(second.query.state, first.query.state, 'a new state for the new round')
  t.match(second.query.code_challenge, /^[\w-]{43}$/, 'and a new PKCE challenge')
  t.not(second.query.code_challenge, first.query.code_challenge)
  t.equal(second.query.prompt, undefined)

  const { names } = loginCookies(config, 'kakao')
  const repairStart = parseSetCookies(callbacks[0])
  t.equal(repairStart.get(names.repair)?.value, 'email', 'the repair cookie marks the second round')
  t.equal(repairStart.get(names.returnTo)?.value, '/welcome', 'returnTo carried over')
  t.equal(repairStart.get(names.challenge)?.value, CHALLENGE, 'code_challenge carried over')
  t.equal(parseSetCookies(callbacks[1]).get(names.repair)?.value, '', 'cleared at the second callback')

  t.equal(params.get('error'), null)
  t.equal(params.get('returnTo'), '/welcome')
  const exchange = await browse(app, newBrowser(), '/auth/exchange', { method: 'POST', payload: { code: params.get('code'), code_verifier: VERIFIER } })
  t.equal(exchange.statusCode, 200, exchange.body)
  t.equal(exchange.json().profile.email, 'gildong@kakao.com', 'the email the second round brought')
  t.equal(writtenAfterFirstRound, 0, 'nothing written by the first round')
  t.equal(await app.handoff.db.prisma.loginCode.count(), 1, 'one login code, from the second round')
})

t.test('Kakao: still missing after the second round ends with provider_consent_missing and missing=email, nothing written', async t => {
  kakao.declines = [['account_email'], ['account_email']]
  const { app, rawLogs } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email' }, { logs: true })
  const { callbacks, params } = await loginRounds(app, newBrowser(), 'kakao')
  t.equal(callbacks.length, 2, 'asked again once, not twice')
  t.equal(kakao.requests.filter(request => request.path === '/oauth/authorize').length, 2)
  t.equal(params.get('error'), 'provider_consent_missing')
  t.equal(params.get('missing'), 'email')
  t.equal(params.get('provider'), 'kakao')
  t.equal(params.get('code'), null)
  await expectNothingWritten(t, app)
  t.notMatch(rawLogs(), /gildong@kakao\.com/, 'no address in the log')
})

t.test('Kakao: closing the additional consent screen ends as provider_consent_missing too', async t => {
  kakao.declines = [['account_email']]
  const { app } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email' })
  const { params } = await loginRounds(app, newBrowser(), 'kakao', '', round => { if (round === 2) kakao.authorize = 'deny' })
  t.equal(params.get('error'), 'provider_consent_missing')
  t.equal(params.get('missing'), 'email')
  await expectNothingWritten(t, app)
})

t.test('Kakao in OIDC mode: the additional consent asks for openid too, and the second id_token brings the verified email', async t => {
  kakao.declines = [['account_email']]
  const { app } = await buildTestApp(t, { ...kakao.env, KAKAO_OIDC: 'true', KAKAO_REQUIRED_FIELDS: 'email' })
  const browser = newBrowser()
  const { params } = await loginRounds(app, browser, 'kakao')
  const [first, second] = kakao.requests.filter(request => request.path === '/oauth/authorize')
  t.equal(first.query.scope, 'profile_nickname,profile_image,account_email,openid')
  t.equal(second.query.scope, 'account_email,openid', 'without openid Kakao would issue no id_token')
  t.match(second.query.nonce, /^[\w-]{43}$/)
  t.not(second.query.nonce, first.query.nonce, 'a nonce for the new round')
  t.ok(params.get('code'), `login ended with ${params.get('error')}`)
  const stored = await storedProfile(app)
  t.equal(stored?.email, 'gildong@kakao.com')
  t.equal(stored?.emailVerified, true)
})

t.test('Kakao: a new login after an abandoned repair round gets its own repair round', async t => {
  kakao.declines = [['account_email'], ['account_email']]
  const { app } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email' })
  const browser = newBrowser()
  const start = await browse(app, browser, '/auth/kakao/login')
  const callbackUrl = new URL(String((await fetch(String(start.headers.location), { redirect: 'manual' })).headers.get('location')))
  const abandoned = await browse(app, browser, callbackUrl.pathname + callbackUrl.search)
  t.equal(new URL(String(abandoned.headers.location)).origin, kakao.authUrl, 'sent back to Kakao, and never followed')

  const { callbacks, params } = await loginRounds(app, browser, 'kakao')
  t.equal(callbacks.length, 2, 'the new login was asked again, not ended as a second round')
  t.ok(params.get('code'), `login ended with ${params.get('error')}`)
})

t.test('Kakao: a link keeps linking through the repair round', async t => {
  kakao.declines = [['account_email']]
  const { app } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email', DEV_LOGIN: 'true' })
  const browser = newBrowser()
  await signInWithDev(app, browser, 'linker')
  const link = await browse(app, browser, '/auth/kakao/link', { method: 'POST', payload: { returnTo: '/settings' } })
  t.equal(link.statusCode, 200, link.body)
  const { callbacks, params } = await followRounds(app, browser, link.json().authorizationUrl)
  t.equal(callbacks.length, 2)
  t.equal(params.get('linked'), 'kakao', `link ended with ${params.get('error')}`)
  t.equal(params.get('returnTo'), '/settings')
  const identity = await app.handoff.db.prisma.identity.findFirst({ where: { provider: 'kakao' } })
  t.equal(identity?.email, 'gildong@kakao.com')
})

t.test('Kakao: required fields the profile has cost no second round', async t => {
  const { app } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'nickname,avatar' })
  const { callbacks, params } = await loginRounds(app, newBrowser(), 'kakao')
  t.equal(callbacks.length, 1)
  t.ok(params.get('code'))
  t.equal(kakao.requests.find(request => request.path === '/oauth/authorize')?.query.scope, 'profile_nickname,profile_image')
})

t.test('Naver: declined email and name are asked again with auth_type=reprompt; the login then completes', async t => {
  naver.declines = [['email', 'name']]
  const { app } = await buildTestApp(t, { ...naver.env, NAVER_REQUIRED_FIELDS: 'email,name' })
  const browser = newBrowser()
  const { callbacks, params } = await loginRounds(app, browser, 'naver', '?returnTo=%2Fhome')
  t.equal(callbacks.length, 2)
  const [first, second] = naver.requests.filter(request => request.path === '/oauth2.0/authorize')
  t.equal(first.query.auth_type, undefined)
  t.equal(second.query.auth_type, 'reprompt')
  t.not(second.query.state, first.query.state)
  t.equal(params.get('returnTo'), '/home')
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(exchange.json().profile.email, 'openapi@naver.com')
  t.equal(exchange.json().profile.name, '오픈 API')
})

t.test('Naver: a field still declined after the reprompt is named in missing=', async t => {
  naver.declines = [['email', 'name'], ['name']]
  const { app } = await buildTestApp(t, { ...naver.env, NAVER_REQUIRED_FIELDS: 'email,name' })
  const { params } = await loginRounds(app, newBrowser(), 'naver')
  t.equal(params.get('error'), 'provider_consent_missing')
  t.equal(params.get('missing'), 'name', 'only what is still missing')
  t.equal(params.get('provider'), 'naver')
  await expectNothingWritten(t, app)
})

t.test('Naver in OIDC mode: the reprompt goes to /oauth2/authorize, with openid and a new PKCE challenge', async t => {
  naver.declines = [['email']]
  const { app } = await buildTestApp(t, { ...naver.env, NAVER_OIDC: 'true', NAVER_REQUIRED_FIELDS: 'email' })
  const { params } = await loginRounds(app, newBrowser(), 'naver')
  const [first, second] = naver.requests.filter(request => request.path === '/oauth2/authorize')
  t.equal(second.query.auth_type, 'reprompt')
  t.equal(second.query.scope, 'openid profile')
  t.not(second.query.code_challenge, first.query.code_challenge)
  t.ok(params.get('code'), `login ended with ${params.get('error')}`)
  t.equal((await storedProfile(app))?.email, 'openapi@naver.com')
})

t.test('a planted repair cookie with unknown fields is ignored', async t => {
  kakao.declines = [['account_email']]
  const { app, config } = await buildTestApp(t, { ...kakao.env, KAKAO_REQUIRED_FIELDS: 'email' })
  const browser = newBrowser()
  const start = await browse(app, browser, '/auth/kakao/login')
  await browser.jar.setCookie(`${loginCookies(config, 'kakao').names.repair}=password,token; Path=/auth/kakao/callback`, 'http://localhost/auth/kakao/callback')
  const { callbacks, params } = await followRounds(app, browser, String(start.headers.location))
  t.equal(callbacks.length, 2, 'treated as a first round')
  t.ok(params.get('code'))
})
