import t from 'tap'
import { startFakeKakao } from '../fakes/kakao.js'
import { startFakeNaver } from '../fakes/naver.js'
import { buildTestApp } from '../helpers/build-app.js'
import { loginThroughProvider, newBrowser } from '../helpers/login.js'
import { expectLoginFailure } from '../helpers/provider-flow.js'
import { resetKakao, resetNaver } from '../helpers/provider-resets.js'

// Kakao's KOE codes name what to fix in its console: a login that fails with one hands it to the
// frontend as provider_code (with provider=kakao), beside our own error code. Nothing else does.

const kakao = await startFakeKakao()
const naver = await startFakeNaver()
t.teardown(async () => { await Promise.all([kakao.close(), naver.close()]) })
t.beforeEach(() => {
  resetKakao(kakao)
  resetNaver(naver)
})

const cases: Array<{ name: string, expected: string, koe: string, setup?: () => void, env?: Record<string, string>, tamper?: (url: URL) => void }> = [
  { name: 'the app enabled a client secret we do not send', expected: 'provider_misconfigured', koe: 'KOE010', setup: () => { kakao.clientSecret = 'enabled-in-console' } },
  { name: 'a spent or unknown authorization code', expected: 'provider_token_error', koe: 'KOE320', setup: () => { kakao.token = 'KOE320' } },
  {
    name: 'KOE205 on the callback',
    expected: 'provider_scope_not_enabled',
    koe: 'KOE205',
    tamper: url => {
      url.searchParams.delete('code')
      url.searchParams.set('error', 'invalid_scope')
      url.searchParams.set('error_description', 'KOE205')
    }
  }
]

for (const { name, expected, koe, setup, env, tamper } of cases) {
  t.test(`${name}: error=${expected}&provider=kakao&provider_code=${koe}, nothing written`, async t => {
    const testApp = await buildTestApp(t, { ...kakao.env, ...env })
    setup?.()
    const login = await loginThroughProvider(testApp.app, newBrowser(), 'kakao', { tamperCallback: tamper })
    await expectLoginFailure(t, testApp, login, expected)
    t.equal(login.params.get('provider'), 'kakao')
    t.equal(login.params.get('provider_code'), koe)
    t.equal(login.params.get('missing'), null)
  })
}

t.test('errors without a provider code carry neither provider nor provider_code', async t => {
  kakao.authorize = 'deny'
  const kakaoApp = await buildTestApp(t, kakao.env)
  const denied = await loginThroughProvider(kakaoApp.app, newBrowser(), 'kakao')
  t.equal(denied.params.get('error'), 'access_denied')
  t.equal(denied.params.get('provider'), null)
  t.equal(denied.params.get('provider_code'), null)

  naver.token = 'invalid_request'
  const naverApp = await buildTestApp(t, naver.env)
  const failed = await loginThroughProvider(naverApp.app, newBrowser(), 'naver')
  t.equal(failed.params.get('error'), 'provider_token_error')
  t.equal(failed.params.get('provider_code'), null, 'Naver\'s error names are not codes to look up')
})
