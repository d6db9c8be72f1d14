import t from 'tap'
import { safeReturnTo } from '../../src/auth/handoff.js'
import { loginCookies } from '../../src/auth/login-cookies.js'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { loginThroughProvider, newBrowser } from '../helpers/login.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

const FRONTEND_ORIGIN = 'http://frontend.test'

t.test('safeReturnTo keeps paths on the frontend origin and drops everything else', async t => {
  const table: Array<[string | undefined, string | undefined]> = [
    ['/settings', '/settings'],
    ['/settings?tab=2&next=%2F%2Fx#section', '/settings?tab=2&next=%2F%2Fx#section'],
    ['/search?q=a//b#//fragment', '/search?q=a//b#//fragment'],
    ['/a/b/../c', '/a/c'],
    ['http://frontend.test/profile?x=1#y', '/profile?x=1#y'],
    ['/', '/'],
    // Resolve to a path that starts with two slashes: a browser reads that as another host.
    ['/.//evil.com', undefined],
    ['/a/..//evil.com', undefined],
    ['/./\\evil.com', undefined],
    ['http://frontend.test//evil.com', undefined],
    // Encoded slashes or backslashes up front: routers that decode the path would read another host.
    ['/%2F%2Fevil.com', undefined],
    ['/%2fevil.com', undefined],
    ['/%5Cevil.com', undefined],
    ['//evil.com', undefined],
    ['/\\evil.com', undefined],
    ['\\\\evil.com', undefined],
    ['https://evil.com', undefined],
    ['http://frontend.test.evil.com/', undefined],
    ['javascript:alert(1)', undefined],
    ['/\t/evil.com', undefined],
    ['/\n/evil.com', undefined],
    ['/\r\n/evil.com', undefined],
    ['', undefined],
    [undefined, undefined]
  ]
  for (const [returnTo, expected] of table) {
    t.equal(safeReturnTo(returnTo, FRONTEND_ORIGIN), expected, `${JSON.stringify(returnTo)} → ${JSON.stringify(expected)}`)
  }
})

t.test('a returnTo that resolves to //host is dropped at the login, and the login still works', async t => {
  const { app } = await buildTestApp(t, github.env)
  for (const attempt of ['/.//evil.com', '/a/..//evil.com', '/%2F%2Fevil.com', '/\\evil.com']) {
    const outcome = await loginThroughProvider(app, newBrowser(), 'github', { loginQuery: `?returnTo=${encodeURIComponent(attempt)}` })
    t.match(outcome.params.get('code'), /^[\w-]{43}$/, `login still works with returnTo=${attempt}`)
    t.equal(outcome.params.get('returnTo'), null, `returnTo=${attempt} is dropped`)
    t.notMatch(outcome.location.toString(), /evil/, 'and nothing of it reaches the Location')
  }
})

t.test('a return-path cookie planted in the browser is checked again at the callback', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const name = loginCookies(config, 'github').names.returnTo
  t.equal(name, 'handoff_github_return_to', 'over http the name anyone on the site can write')
  for (const planted of ['//evil.com', '/\\evil.com', 'https://evil.com/']) {
    const browser = newBrowser()
    const outcome = await loginThroughProvider(app, browser, 'github', {
      // Another page of the same site (or a sibling subdomain over http) writes the cookie mid-login.
      tamperCallback: url => browser.jar.setCookieSync(`${name}=${planted}; Path=/auth/github/callback`, url.toString())
    })
    t.match(outcome.params.get('code'), /^[\w-]{43}$/, `the login completes with a planted ${planted}`)
    t.equal(outcome.params.get('returnTo'), null, `the planted ${planted} is dropped`)
  }
})
