import t from 'tap'
import { launchBrowser, screenshot, Session, startServer } from './harness.js'

// The demo speaks the browser's language: Korean for a browser that prefers Korean, English
// otherwise, for its own screens and for the error codes the login redirect hands it.

const browser = await launchBrowser(t)

// In the page (the test's own types have no DOM).
declare const getComputedStyle: (element: unknown) => { backgroundColor: string, color: string, borderTopLeftRadius: string }

t.test('a login that ended without a required field: the message in Korean for ko-KR, in English for en-US', async t => {
  const server = await startServer(t)
  const cases = [
    { locale: 'ko-KR', message: '서비스 이용에 꼭 필요한 정보(이메일)를 받지 못했어요. 다시 로그인하면서 동의 화면에서 이 항목에 동의해 주세요.', signIn: '로그인', lang: 'ko' },
    { locale: 'en-US', message: 'We did not receive your email address, which this app needs. Sign in again and allow it on the consent screen.', signIn: 'Sign in', lang: 'en' }
  ]
  for (const { locale, message, signIn, lang } of cases) {
    const session = await Session.open(browser, server, { locale })
    t.teardown(() => session.close())
    const page = await session.page('/#error=provider_consent_missing&missing=email')
    const banner = page.getByTestId('message')
    await banner.waitFor()
    t.equal((await banner.textContent())?.trim(), message, `${locale}: the error in its language`)
    t.equal(await banner.getAttribute('role'), 'alert', 'announced as an alert')
    await t.resolves(page.getByRole('heading', { name: signIn }).waitFor(), `${locale}: the sign-in screen too`)
    t.equal(await page.evaluate('document.documentElement.lang'), lang)
    t.equal(page.url(), `${server.base}/`, 'the error left the address bar')
    const catalogRequests = session.requests.filter(request => request.url.startsWith(`${server.base}/auth/messages`))
    t.same(catalogRequests.map(request => new URL(request.url).searchParams.get('lang')), [lang], 'one catalog, in the page\'s language')
    await screenshot(page, `12-consent-missing-${locale}`)
  }
})

// Buttons only: no login is started, so the provider hosts are never reached.
const koreanProviders = { KAKAO_CLIENT_ID: 'kakao-rest-api-key', NAVER_CLIENT_ID: 'naver-client', NAVER_CLIENT_SECRET: 'naver-secret' }

t.test('Kakao and Naver buttons follow their design guides, in the page\'s language; the others are neutral', async t => {
  const server = await startServer(t, koreanProviders)
  const expected = {
    'ko-KR': { kakao: '카카오 로그인', naver: '네이버 로그인', github: 'GitHub 계정으로 계속하기' },
    'en-US': { kakao: 'Login with Kakao', naver: 'Log in with NAVER', github: 'Continue with GitHub' }
  }
  for (const [locale, labels] of Object.entries(expected)) {
    const session = await Session.open(browser, server, { locale })
    t.teardown(() => session.close())
    const page = await session.page('/')
    const button = (id: string) => page.locator(`a.provider-${id}`)
    await button('kakao').waitFor()
    for (const [id, label] of Object.entries(labels)) t.equal((await button(id).textContent())?.trim(), label, `${locale} ${id}: "${label}"`)
    const style = (id: string) => button(id).evaluate(element => { const css = getComputedStyle(element); return { background: css.backgroundColor, color: css.color, radius: css.borderTopLeftRadius } })
    t.same(await style('kakao'), { background: 'rgb(254, 229, 0)', color: 'rgba(0, 0, 0, 0.85)', radius: '12px' }, 'Kakao: #FEE500, #000000 at 85 %, 12px')
    t.match(await style('naver'), { background: 'rgb(3, 199, 90)', color: 'rgb(255, 255, 255)' }, 'Naver: #03C75A, white')
    t.match(await style('github'), { background: 'rgb(255, 255, 255)', color: 'rgb(31, 31, 31)' }, 'GitHub: neutral')
    await screenshot(page, `13-provider-buttons-${locale}`)
  }
})

t.test('a Kakao misconfiguration tells the developer what to change, in Korean', async t => {
  const server = await startServer(t)
  const session = await Session.open(browser, server, { locale: 'ko-KR' })
  t.teardown(() => session.close())
  const page = await session.page('/#error=provider_misconfigured&provider=kakao&provider_code=KOE006')
  await page.getByTestId('message').waitFor()
  t.equal((await page.getByTestId('message').locator('p').first().textContent())?.trim(), '이 로그인 방법의 설정에 문제가 있어요. 당분간 다른 방법으로 로그인해 주세요.')
  const hint = await page.getByTestId('message-hint').textContent()
  t.match(hint, /^개발자 안내\(KOE006\): .*\[앱\] > \[플랫폼 키\] > \[REST API 키\] > \[리다이렉트 URI\]/)
  t.match(hint, `${server.base}/auth/kakao/callback`, 'naming the exact URI to register')
})

t.test('the API\'s own errors follow the browser\'s language too', async t => {
  const server = await startServer(t)
  for (const [locale, expected] of [['ko-KR', '예약된 닉네임'], ['en-US', 'reserved']] as const) {
    const session = await Session.open(browser, server, { locale })
    t.teardown(() => session.close())
    const page = await session.page('/')
    await page.getByRole('link', { name: locale === 'ko-KR' ? '개발용 로그인으로 계속하기' : 'Continue with Dev login' }).click()
    await page.waitForURL(/\/auth\/dev\/login/)
    await page.fill('#id', `dev-${locale}`)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('#nickname').waitFor()
    await page.fill('#nickname', 'admin')
    await t.resolves(page.locator('.field-status.bad', { hasText: expected }).waitFor(), `${locale}: the nickname check says "${expected}"`)
  }
})
