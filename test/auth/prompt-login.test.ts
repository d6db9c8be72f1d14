import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { startFakeGoogle } from '../fakes/google.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { startFakeNaver } from '../fakes/naver.js'
import type { RecordedRequest } from '../fakes/recorder.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser } from '../helpers/login.js'
import { resetKakao, resetNaver } from '../helpers/provider-resets.js'

// Account switching: GET /auth/:provider/login?prompt=login reaches each provider's authorize page
// as that provider's own way to show its login screen (or account picker) again, and the login
// still completes: state, PKCE and nonce are untouched.

const kakao = await startFakeKakao()
const naver = await startFakeNaver()
const google = await startFakeGoogle()
const github = await startFakeGitHub()
const issuer = await startFakeGoogle({ pathPrefix: '/realms/company' })
t.teardown(async () => { await Promise.all([kakao, naver, google, github, issuer].map(fake => fake.close())) })
t.beforeEach(() => {
  resetKakao(kakao)
  resetNaver(naver)
  for (const fake of [kakao, naver, google, github, issuer]) fake.requests.length = 0
})

interface Case { provider: string, env: Record<string, string>, requests: RecordedRequest[], authorizePath: string, param: [string, string] }

const cases: Array<[string, Case]> = [
  ['Kakao', { provider: 'kakao', env: kakao.env, requests: kakao.requests, authorizePath: '/oauth/authorize', param: ['prompt', 'login'] }],
  ['Kakao in OIDC mode', { provider: 'kakao', env: { ...kakao.env, KAKAO_OIDC: 'true' }, requests: kakao.requests, authorizePath: '/oauth/authorize', param: ['prompt', 'login'] }],
  ['Naver', { provider: 'naver', env: naver.env, requests: naver.requests, authorizePath: '/oauth2.0/authorize', param: ['auth_type', 'reauthenticate'] }],
  ['Naver in OIDC mode', { provider: 'naver', env: { ...naver.env, NAVER_OIDC: 'true' }, requests: naver.requests, authorizePath: '/oauth2/authorize', param: ['auth_type', 'reauthenticate'] }],
  ['Google', { provider: 'google', env: google.env, requests: google.requests, authorizePath: '/o/oauth2/v2/auth', param: ['prompt', 'select_account'] }],
  ['GitHub', { provider: 'github', env: github.env, requests: github.requests, authorizePath: '/login/oauth/authorize', param: ['prompt', 'select_account'] }],
  ['an OpenID Connect issuer', { provider: 'oidc', env: { OIDC_ISSUER: issuer.issuer, OIDC_CLIENT_ID: issuer.clientId, OIDC_CLIENT_SECRET: issuer.clientSecret }, requests: issuer.requests, authorizePath: '/o/oauth2/v2/auth', param: ['prompt', 'login'] }]
]

for (const [name, { provider, env, requests, authorizePath, param: [key, value] }] of cases) {
  t.test(`${name}: prompt=login reaches the authorize page as ${key}=${value}, and the login completes`, async t => {
    const { app } = await buildTestApp(t, env)
    const browser = newBrowser()
    const login = await loginThroughProvider(app, browser, provider, { loginQuery: '?prompt=login&returnTo=%2Fswitched' })
    t.match(login.params.get('code'), /^[\w-]{43}$/, `login ended with ${login.params.get('error')}`)
    t.equal(login.params.get('returnTo'), '/switched')
    const authorize = requests.find(request => request.path === authorizePath)
    t.equal(authorize?.query[key], value, `${key}=${value} at the provider`)
    t.match(authorize?.query.state, /^[\w-]{43}$/, 'the state is ours, not replaced')
    const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: login.params.get('code') } })
    t.equal(exchange.statusCode, 200, 'and the code exchanges')

    requests.length = 0
    t.ok((await loginThroughProvider(app, newBrowser(), provider)).params.get('code'))
    t.equal(requests.find(request => request.path === authorizePath)?.query[key], undefined, `no ${key} without prompt=login`)
  })
}

t.test('prompt takes only "login": anything else is a 400 invalid_request', async t => {
  const { app } = await buildTestApp(t, github.env)
  for (const prompt of ['consent', 'none', 'select_account', '']) {
    const response = await browse(app, newBrowser(), `/auth/github/login?prompt=${prompt}`)
    t.equal(response.statusCode, 400, `prompt=${prompt}`)
    t.equal(response.json().code, 'invalid_request')
    t.notOk(response.headers['set-cookie'], 'no login cookie set')
  }
})
