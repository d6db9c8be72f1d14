import t, { type Test } from 'tap'
import { chooseNickname, devLogin, launchBrowser, screenshot, Session, startServer, type Server } from './harness.js'

// A first login through each provider, seen from a real browser: the nickname form with live
// availability, then the profile; and proof that no token or code travelled in a URL.

const browser = await launchBrowser(t)

/** Every URL the browser visited or requested, and every Referer it sent. */
function assertNoSecretInUrls (t: Test, session: Session, server: Server, secrets: { tokens: string[], codes: string[], providerCodes?: string[] }) {
  const sent = session.requests.flatMap(request => [request.url, request.referer ?? ''])
  for (const token of secrets.tokens) {
    t.notOk([...sent, ...session.visited].some(url => url.includes(token)), 'no cookie value (access, refresh, signup token) in any URL or Referer')
  }
  for (const code of secrets.codes) {
    t.notOk(sent.some(url => url.includes(code)), 'the one-time code is in no request URL or Referer')
    t.ok(session.visited.some(url => url.startsWith(`${server.base}/#code=${code}`)), 'it reached the page in the fragment only')
    const carriers = session.requests.filter(request => request.postData?.includes(code) === true)
    t.same(carriers.map(request => `${request.method} ${request.url}`), [`POST ${server.base}/auth/exchange`], 'and left it once, in the body of the exchange')
  }
  for (const code of secrets.providerCodes ?? []) {
    const carriers = [...sent, ...session.visited].filter(url => url.includes(code)).map(url => new URL(url))
    t.ok(carriers.length > 0, 'the provider code passed through the browser')
    t.ok(carriers.every(url => url.origin === server.base && url.pathname === '/auth/github/callback'), 'only on the way to our callback')
  }
}

t.test('first login through the dev provider: nickname, profile, HttpOnly cookies, reload, Back', async t => {
  const server = await startServer(t)
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const page = await session.page('/')
  await page.getByRole('link', { name: 'Continue with Dev login' }).waitFor()
  await screenshot(page, '01-sign-in')

  await devLogin(page, { id: 'dev-sora', nickname: 'sora', name: '김소라', email: 'sora@example.com' }, { shot: '02-dev-provider' })
  await page.locator('#nickname').waitFor()
  t.equal(page.url(), `${server.base}/`, 'the code left the address bar before anything else')
  t.equal(await page.inputValue('#nickname'), 'sora', 'the suggested nickname is prefilled')
  await page.locator('.field-status.ok').waitFor()

  await page.fill('#nickname', 'admin')
  await t.resolves(page.locator('.field-status.bad', { hasText: 'reserved' }).waitFor(), 'live availability: reserved')
  await page.fill('#nickname', '1234')
  await t.resolves(page.locator('.field-status.bad').waitFor(), 'live availability: invalid')
  await page.fill('#nickname', '소라')
  await page.locator('.field-status.ok').waitFor()
  await screenshot(page, '03-nickname')
  await chooseNickname(page, '소라')
  t.equal(await page.getByTestId('nickname').textContent(), '소라', 'the profile shows the chosen nickname')
  await t.resolves(page.getByText('Dev login').first().waitFor(), 'the linked provider is listed')
  await screenshot(page, '04-profile')

  const cookies = await session.context.cookies(server.base)
  const names = cookies.map(cookie => cookie.name)
  t.ok(names.includes('handoff_access') && names.includes('handoff_refresh') === false, 'the access cookie is on /; the refresh cookie is only sent to /auth')
  t.ok(cookies.every(cookie => cookie.httpOnly), 'every session cookie is HttpOnly')
  const visible = await page.evaluate('document.cookie') as string
  t.notMatch(visible, /handoff_/, 'document.cookie cannot read the session cookies')

  await page.reload()
  await page.getByTestId('profile').waitFor()
  t.equal(await page.getByTestId('nickname').textContent(), '소라', 'reloading keeps the session')

  // Leave the app, then press Back to the page that received the code.
  const exchanges = session.exchangedCodes().length
  await page.getByRole('link', { name: 'API docs' }).click()
  await page.waitForURL(/\/docs/)
  await page.goBack()
  await page.getByTestId('profile').waitFor()
  t.equal(page.url(), `${server.base}/`, 'Back lands on the page without the code')
  t.equal(session.exchangedCodes().length, exchanges, 'and does not exchange again')
  t.equal(await page.getByTestId('message').count(), 0, 'and shows no error')

  assertNoSecretInUrls(t, session, server, { tokens: await session.issuedSecrets(), codes: session.exchangedCodes() })
  t.ok(session.exchangedCodes().length === 1 && (await session.issuedSecrets()).length >= 3, 'the check saw the code and the tokens')
})

t.test('first login through GitHub: a taken nickname is refused live, then a free one; profile with the verified email', async t => {
  const server = await startServer(t)
  const first = await Session.open(browser, server)
  t.teardown(() => first.close())
  const setup = await first.page('/')
  await devLogin(setup, { id: 'dev-octo', nickname: 'octocat' })
  await chooseNickname(setup, 'octocat')

  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const page = await session.page('/')
  await page.getByRole('link', { name: 'Continue with GitHub' }).click()
  await page.locator('#nickname').waitFor()
  t.equal(page.url(), `${server.base}/`, 'the code left the address bar')
  t.not(await page.inputValue('#nickname'), 'octocat', 'the suggestion avoids the taken nickname')
  await page.fill('#nickname', 'OctoCat')
  await t.resolves(page.locator('.field-status.bad', { hasText: 'taken' }).waitFor(), 'live availability: taken, regardless of case')
  await screenshot(page, '05-github-nickname-taken')
  await chooseNickname(page, '옥토캣')
  t.equal(await page.getByTestId('nickname').textContent(), '옥토캣')
  await t.resolves(page.getByText('octocat@github.com ✓').waitFor(), 'the verified email of the GitHub identity is shown')
  await screenshot(page, '06-github-profile')

  const providerCodes = server.github.requests.filter(request => request.path === '/login/oauth/access_token').map(request => request.body.code)
  t.equal(providerCodes.length, 1)
  assertNoSecretInUrls(t, session, server, { tokens: await session.issuedSecrets(), codes: session.exchangedCodes(), providerCodes })
})
