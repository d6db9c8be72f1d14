import t from 'tap'
import { startFakeApple } from '../fakes/apple.js'
import { chooseNickname, launchBrowser, screenshot, Session, startServer } from './harness.js'

// Sign in with Apple in a real browser: the fake Apple on 127.0.0.2, another site than the server on
// 127.0.0.1, auto-posts its form to our callback. Chromium sends no SameSite=Lax cookie with that
// cross-site POST, so the login only completes if our relay page posts it again from our own origin.

const browser = await launchBrowser(t)
const apple = await startFakeApple({ host: '127.0.0.2' })
t.teardown(() => apple.close())

const callbackPosts = (session: Session) => session.requests.filter(request => request.method === 'POST' && request.url === `${session.server.base}/auth/apple/callback`)

t.test('first login with Apple: the cross-site form_post is relayed once, the login completes with a one-time code and the name', async t => {
  const server = await startServer(t, apple.env)
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  const page = await session.page('/')
  await page.getByRole('link', { name: 'Sign in with Apple' }).click()
  await page.locator('#nickname').waitFor()
  t.equal(page.url(), `${server.base}/`, 'back on the frontend, the code already out of the address bar')
  t.equal(await page.inputValue('#nickname'), 'Gildong', 'the name Apple sent once suggests the nickname')

  const posts = callbackPosts(session)
  t.equal(posts.length, 2, 'Apple\'s POST, then ours')
  t.match(posts[0].referer, /^http:\/\/127\.0\.0\.2:\d+\/$/, 'the first came from Apple\'s site')
  t.notMatch(posts[0].postData, 'handoff_relay', 'as Apple sent it')
  t.match(posts[1].postData, 'handoff_relay=1', 'the second from our relay page')
  t.equal(posts[1].referer, undefined, 'which sends no Referer')
  t.ok(session.visited.some(url => url.startsWith(`${server.base}/#code=`)), 'the frontend got a one-time code in the fragment')
  t.equal(session.exchangedCodes().length, 1)

  await chooseNickname(page, '길동')
  t.equal(await page.getByTestId('nickname').textContent(), '길동')
  await t.resolves(page.getByText('gildong@example.com ✓').waitFor(), 'the email Apple verified is shown')
  await screenshot(page, '07-apple-profile')
  const user = await server.app.handoff.db.prisma.user.findFirstOrThrow()
  t.equal(user.name, 'Gildong Hong', 'the name of the first authorization is on the account')
})

t.test('a forged form_post from another site into a browser with its own Apple login pending: error=invalid_state', async t => {
  const server = await startServer(t, apple.env)
  const session = await Session.open(browser, server)
  t.teardown(() => session.close())
  apple.requests.length = 0
  // The victim started an Apple login and left it on Apple's page: the state cookie is set.
  apple.authorize = 'hold'
  t.teardown(() => { apple.authorize = 'approve' })
  const page = await session.page('/auth/apple/login')
  await page.getByText('Sign in with Apple').waitFor()
  t.ok((await session.context.cookies()).some(cookie => cookie.name === 'handoff_apple_state'), 'the login\'s state cookie is set')
  // An attacker's page on another site posts a code of the attacker's own login, with its state.
  await session.context.route(`${apple.issuer}/attacker`, route => route.fulfill({
    contentType: 'text/html',
    body: `<form method="post" action="${server.base}/auth/apple/callback"><input type="hidden" name="code" value="c-attackers-code"><input type="hidden" name="state" value="attackers-state"></form><script>document.forms[0].submit()</script>`
  }))
  await page.goto(`${apple.issuer}/attacker`)
  await page.getByText('did not start in this browser').waitFor()
  t.ok(session.visited.some(url => url === `${server.base}/#error=invalid_state`), 'the frontend got error=invalid_state')
  t.equal(session.exchangedCodes().length, 0, 'no code to exchange')
  t.equal(callbackPosts(session).length, 2, 'relayed once, refused on the second POST')
  t.equal(apple.requests.filter(request => request.path === '/auth/token').length, 0, 'the attacker\'s code was never redeemed')
  t.equal(await server.app.handoff.db.prisma.loginCode.count(), 0)
})
