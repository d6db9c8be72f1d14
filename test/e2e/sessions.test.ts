import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { TEST_JWT_SECRET } from '../helpers/build-app.js'
import { chooseNickname, devLogin, launchBrowser, screenshot, Session, startServer, type Server } from './harness.js'

// After the first login: expiry and refresh, logout across tabs, a leaked handoff URL, a denial.

const browser = await launchBrowser(t)

async function signedIn (t: Test, server: Server, id = 'dev-mina', nickname = 'mina') {
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const page = await session.page('/')
  await devLogin(page, { id, nickname })
  await chooseNickname(page, nickname)
  return { session, page }
}

t.test('an expired access token is refreshed transparently', async t => {
  const server = await startServer(t)
  const { session, page } = await signedIn(t, server)
  const [access] = (await session.context.cookies(server.base)).filter(cookie => cookie.name === 'handoff_access')
  // The token as the server signed it, but expired a minute ago (the clock of @fastify/jwt is real time).
  const claims = decodeJwt(access.value)
  const expired = await new SignJWT({ ...claims, iat: claims.iat! - 3600, exp: Math.floor(Date.now() / 1000) - 60 })
    .setProtectedHeader(decodeProtectedHeader(access.value) as { alg: string })
    .sign(new TextEncoder().encode(TEST_JWT_SECRET))
  await session.context.addCookies([{ ...access, value: expired }])

  const before = session.requests.length
  await page.reload()
  await page.getByTestId('profile').waitFor()
  const calls = session.requests.slice(before).map(request => `${request.method} ${new URL(request.url).pathname}`)
  t.ok(calls.includes('POST /auth/refresh'), 'the app refreshed the session')
  t.equal(await page.getByTestId('message').count(), 0, 'without an error')
  const [renewed] = (await session.context.cookies(server.base)).filter(cookie => cookie.name === 'handoff_access')
  t.ok(decodeJwt(renewed.value).exp! > Date.now() / 1000, 'and holds a fresh access token')

  // A browser drops the cookie at its Max-Age: the same, with no access cookie at all.
  await session.context.clearCookies({ name: 'handoff_access' })
  await page.reload()
  await page.getByTestId('profile').waitFor()
  t.equal(await page.getByTestId('message').count(), 0, 'a dropped access cookie is refreshed the same way')
  await page.setViewportSize({ width: 390, height: 800 })
  await screenshot(page, '11-mobile-profile')
})

t.test('logout in one tab: the other tab is signed out at its next call', async t => {
  const server = await startServer(t)
  const { session, page } = await signedIn(t, server)
  const other = await session.page('/')
  await other.getByTestId('profile').waitFor()
  await screenshot(other, '07-sessions')

  await page.getByTestId('profile').getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('link', { name: 'Continue with Dev login' }).waitFor()
  t.match(await page.getByTestId('message').textContent(), /signed out/)
  await screenshot(page, '08-signed-out')

  await other.getByRole('button', { name: 'Refresh session' }).click()
  await t.resolves(other.getByRole('link', { name: 'Continue with Dev login' }).waitFor(), 'the other tab shows the sign-in screen')
  t.match(await other.getByTestId('message').textContent(), /session has ended/i)
  const response = await other.request.get(`${server.base}/users/me`)
  t.equal(response.status(), 401, 'and the API agrees')
})

t.test('a second browser given the handoff URL cannot exchange the code', async t => {
  const server = await startServer(t)
  const { session } = await signedIn(t, server)
  const handoffUrl = session.visited.find(url => url.includes('#code='))
  t.ok(handoffUrl, 'the first browser was handed a code')

  const thief = await Session.open(browser, server)
  t.teardown(() => thief.close())
  const page = await thief.page(new URL(handoffUrl!).pathname + new URL(handoffUrl!).hash)
  const message = page.getByTestId('message')
  await message.waitFor()
  t.match(await message.textContent(), /already used or has expired/, 'a readable error')
  t.equal(page.url(), `${server.base}/`, 'the code left the address bar there too')
  t.notOk((await thief.context.cookies(server.base)).some(cookie => cookie.name === 'handoff_access' || cookie.name === 'handoff_refresh'), 'no session cookie')
  await page.getByRole('link', { name: 'Continue with Dev login' }).waitFor()
  await screenshot(page, '09-code-reused')
})

t.test('denied consent ends on a readable error (dev provider and GitHub)', async t => {
  const server = await startServer(t)
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const page = await session.page('/')
  await devLogin(page, { id: 'dev-no' }, { deny: true })
  await page.getByTestId('message').waitFor()
  t.match(await page.getByTestId('message').textContent(), /You cancelled the sign-in/)
  t.equal(page.url(), `${server.base}/`, 'no error code left in the address bar')
  await screenshot(page, '10-denied')

  // The server's SPA fallback: a client route gets the app, an unknown API path stays a JSON 404.
  const client = await page.request.get(`${server.base}/settings/profile`)
  t.match(client.headers()['content-type'], /text\/html/, 'a client route is served the app')
  const api = await page.request.get(`${server.base}/auth/nothing-here`)
  t.equal((await api.json()).code, 'not_found', 'an unknown API path is a JSON 404')

  server.github.authorize = 'deny'
  await page.getByRole('link', { name: 'Continue with GitHub' }).click()
  await page.getByTestId('message').waitFor()
  t.match(await page.getByTestId('message').textContent(), /You cancelled the sign-in/)
  t.notOk((await session.context.cookies(server.base)).some(cookie => cookie.name === 'handoff_access'), 'and nobody is signed in')
  await page.getByRole('link', { name: 'Continue with Dev login' }).waitFor()
  await page.setViewportSize({ width: 390, height: 800 })
  await screenshot(page, '12-mobile-denied')
})
