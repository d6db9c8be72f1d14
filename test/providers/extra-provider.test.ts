import Fastify from 'fastify'
import t from 'tap'
import handoff, { fetchProviderJson, LoginErrorCode, LoginFlowError, type Provider } from '../../src/index.js'
import { startFakeGitHub } from '../fakes/github.js'
import { FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { parseSetCookies } from '../helpers/cookies.js'
import { freshTestDatabase } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// A provider of the host app's own, given in the plugin options: an in-house OAuth server, played
// by the fake GitHub (any authorization-code server with a profile endpoint would do).

const server = await startFakeGitHub()
t.teardown(() => server.close())
t.beforeEach(() => { server.requests.length = 0 })

const settings = { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent' }

/** What a provider author writes, with only the package's exports. */
function inHouseProvider (overrides: Partial<Provider> = {}): Provider {
  return {
    id: 'in-house',
    displayName: 'In-house SSO',
    oauth2: {
      clientId: server.clientId,
      clientSecret: server.clientSecret,
      authorizeUrl: `${server.webUrl}/login/oauth/authorize`,
      tokenUrl: `${server.webUrl}/login/oauth/access_token`,
      scope: ['read:user'],
      pkce: 'S256',
      clientAuth: 'body'
    },
    readAccessToken (reply) {
      if (typeof reply.access_token !== 'string') throw new LoginFlowError(LoginErrorCode.providerTokenError, 'in-house token reply has no access_token')
      return reply.access_token
    },
    async fetchProfile (accessToken, { timeoutMs }) {
      const { status, body } = await fetchProviderJson(`${server.apiUrl}/user`, { headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'handoff-test' }, timeoutMs })
      const user = body as { id: number, login: string }
      if (status !== 200) throw new LoginFlowError(LoginErrorCode.providerProfileError, `in-house /user answered ${status}`)
      return { provider: 'in-house', providerUserId: String(user.id), nickname: user.login, emailVerified: false }
    },
    ...overrides
  }
}

type Tap = { teardown(fn: () => unknown): void }

/** handoff in a plain Fastify app, as a user's own server registers it, with extra providers. */
async function hostApp (t: Tap, providers: Provider[], env: Record<string, string> = {}) {
  const app = Fastify()
  await app.register(handoff, { settings: { ...settings, ...env }, database: (await freshTestDatabase()).target, providers })
  await app.ready()
  t.teardown(() => app.close())
  return app
}

t.test('an extra provider is listed after the configured ones and signs a user in end to end under its own id', async t => {
  const app = await hostApp(t, [inHouseProvider()], server.env)
  t.same((await app.inject('/auth/providers')).json().providers, [
    { id: 'github', name: 'GitHub', loginUrl: '/auth/github/login' },
    { id: 'in-house', name: 'In-house SSO', loginUrl: '/auth/in-house/login' }
  ])

  const browser = newBrowser()
  const signup = await signIn(app, browser, 'in-house')
  t.equal(signup.statusCode, 201)
  t.equal(signup.json().user.nickname, 'octocat', 'the nickname suggested from its profile')
  const me = await browse(app, browser, '/users/me')
  t.same(me.json().user.identities.map((identity: { provider: string }) => identity.provider), ['in-house'])
  const identity = await app.handoff.db.prisma.identity.findFirst()
  t.equal(identity?.providerUserId, String(server.user.id))

  const authorize = server.requests.find(request => request.path === '/login/oauth/authorize')
  const token = server.requests.find(request => request.path === '/login/oauth/access_token')
  t.equal(authorize?.query.redirect_uri, `${PUBLIC_URL}/auth/in-house/callback`)
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri, 'the same redirect_uri in both steps')
  t.match(token?.body.code_verifier, /^[\w-]{43}$/, 'PKCE, as its oauth2 settings ask')
})

t.test('its login cookies carry its id and reach only its callback', async t => {
  const app = await hostApp(t, [inHouseProvider()])
  const cookies = parseSetCookies(await app.inject('/auth/in-house/login'))
  for (const name of ['handoff_in-house_state', 'handoff_in-house_verifier']) {
    t.equal(cookies.get(name)?.attributes.get('path'), '/auth/in-house/callback', name)
    t.ok(cookies.get(name)?.attributes.has('httponly'), `${name} is HttpOnly`)
  }
})

t.test('a profile that names another provider ends on the frontend as server_error, with no identity or code', async t => {
  const impostor = inHouseProvider({
    fetchProfile: async () => ({ provider: 'github', providerUserId: String(server.user.id), emailVerified: false })
  })
  const app = await hostApp(t, [impostor])
  const { params } = await loginThroughProvider(app, newBrowser(), 'in-house')
  t.equal(params.get('error'), 'server_error')
  t.equal(params.get('code'), null)
  t.equal(await app.handoff.db.prisma.identity.count(), 0)
  t.same(await app.handoff.db.sql.query('SELECT 1 FROM login_codes'), [])
})

t.test('an id that is taken refuses to start', async t => {
  for (const id of ['github', 'google', 'kakao', 'naver', 'oidc', 'dev']) {
    await t.rejects(hostApp(t, [inHouseProvider({ id })]), new RegExp(`Invalid option providers\\[0\\]\\.id: "${id}" is a built-in provider's id`), `${id}, configured or not`)
  }
  await t.rejects(hostApp(t, [inHouseProvider(), inHouseProvider({ displayName: 'Again' })]),
    /Invalid option providers\[1\]\.id: "in-house" is the id of another provider/)
})

t.test('an id that does not fit a URL path and a cookie name refuses to start', async t => {
  const ids = ['', 'Line', 'in_house', '../admin', 'a/b', 'a;b', 'a=b', 'line%2F', ' line', 'line ', '-line', 'line-', 'ｌine', 'a'.repeat(33), 'in.house']
  for (const id of ids) {
    await t.rejects(hostApp(t, [inHouseProvider({ id })]), /Invalid option providers\[0\]\.id: .* must be 1 to 32 lower-case letters, digits and hyphens/, JSON.stringify(id))
  }
  await t.rejects(hostApp(t, [inHouseProvider({ id: 42 as unknown as string })]), /Invalid option providers\[0\]\.id: 42 must be/)
  const app = await hostApp(t, [inHouseProvider({ id: 'a'.repeat(32) }), inHouseProvider({ id: 'x9-line' })])
  t.same((await app.inject('/auth/providers')).json().providers.map((provider: { id: string }) => provider.id), ['a'.repeat(32), 'x9-line'], 'the longest id and digits and hyphens are fine')
})

t.test('a provider missing what a login needs refuses to start, naming the option', async t => {
  await t.rejects(hostApp(t, [inHouseProvider({ fetchProfile: undefined })]), /Invalid option providers\[0\]\.fetchProfile: must be a function/)
  await t.rejects(hostApp(t, [inHouseProvider({ displayName: ' ' })]), /Invalid option providers\[0\]\.displayName: must be a non-empty string/)
  const oauth2 = inHouseProvider().oauth2
  await t.rejects(hostApp(t, [inHouseProvider({ oauth2: { ...oauth2, tokenUrl: 'not a url' } })]), /Invalid option providers\[0\]\.oauth2\.tokenUrl: must be an http\(s\) URL/)
  await t.rejects(hostApp(t, [inHouseProvider({ oauth2: { ...oauth2, clientAuth: 'basic' as 'body' } })]), /Invalid option providers\[0\]\.oauth2\.clientAuth/)
})
