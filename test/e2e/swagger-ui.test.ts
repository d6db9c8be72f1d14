import t from 'tap'
import { chooseNickname, devLogin, launchBrowser, screenshot, Session, startServer } from './harness.js'

// Swagger UI's "Try it out" against the real server: signed in through the demo, a state-changing
// call passes the CSRF check with the header the UI fills in, and the browser's own cookies.

const browser = await launchBrowser(t)

t.test('Swagger UI: "Try it out" on POST /auth/refresh answers 200 for a signed-in browser', async t => {
  const server = await startServer(t)
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const app = await session.page('/')
  await devLogin(app, { id: 'dev-yuna', nickname: 'yuna' })
  await chooseNickname(app, 'yuna')
  const refreshCookie = async () => (await session.context.cookies(`${server.base}/auth/refresh`)).find(cookie => cookie.name === 'handoff_refresh')?.value
  const before = await refreshCookie()
  t.ok(before, 'signed in: the browser holds a refresh cookie')

  const page = await session.page('/docs/')
  const sent: Array<Record<string, string>> = []
  page.on('request', request => { if (request.url() === `${server.base}/auth/refresh`) sent.push(request.headers()) })
  const operation = page.locator('#operations-session-refreshSession')
  await operation.locator('.opblock-summary').click()
  await operation.getByRole('button', { name: 'Try it out' }).click()
  await operation.getByRole('button', { name: 'Execute' }).click()
  const status = operation.locator('.live-responses-table .response .response-col_status')
  await status.waitFor()
  t.equal((await status.textContent())?.trim(), '200', 'the UI shows 200')
  t.match(await operation.locator('.live-responses-table .response .response-col_description').textContent(), /"status": "refreshed"/, 'and the refreshed session')
  await screenshot(page, '13-swagger-refresh')

  t.equal(sent.length, 1, 'one request')
  t.equal(sent[0]['x-requested-with'], 'XMLHttpRequest', 'with the CSRF header, filled in by the UI')
  const after = await refreshCookie()
  t.ok(after !== undefined && after !== before, 'the browser\'s refresh cookie was rotated')

  // Without the header (signed out of it under "Authorize"), the same call is refused as before.
  await page.getByRole('button', { name: 'Authorize' }).click()
  // By the scheme's name: the bearer scheme's description mentions the header too.
  const csrf = page.locator('.dialog-ux .auth-container').filter({ hasText: 'csrfHeader' })
  t.match(await csrf.textContent(), /Authorized/, 'the Authorize dialog shows the header filled in')
  await csrf.getByRole('button', { name: 'Remove authorization' }).click()
  await csrf.getByRole('button', { name: 'Close' }).click()
  await operation.getByRole('button', { name: 'Execute' }).click()
  await t.resolves(operation.locator('.live-responses-table .response .response-col_status', { hasText: '403' }).waitFor(), '403 without the header')
  t.equal(await refreshCookie(), after, 'nothing rotated')
})
