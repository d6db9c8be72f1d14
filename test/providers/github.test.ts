import { createHash } from 'node:crypto'
import t from 'tap'
import { startFakeGitHub, type GitHubEmail, type GitHubUser } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, newBrowser } from '../helpers/login.js'
import { providerFlow } from '../helpers/provider-flow.js'
import { storedProfile } from '../helpers/stored-profile.js'

const octocat: GitHubUser = { id: 583231, login: 'octocat', name: 'The Octocat', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4', email: null }
const emails: GitHubEmail[] = [
  { email: 'octocat@github.com', primary: true, verified: true, visibility: 'public' },
  { email: 'octo@example.com', primary: false, verified: false, visibility: null }
]

const { fake: github, build, failures } = await providerFlow('github', startFakeGitHub, {
  reset: github => {
    github.user = { ...octocat }
    github.emails = emails.map(entry => ({ ...entry }))
    github.authorize = 'approve'
    github.token = 'ok'
    github.profile = 'ok'
    github.emailList = 'ok'
  }
})

t.test('listed when configured, absent when not', async t => {
  const { app } = await build(t)
  t.same((await app.inject('/auth/providers')).json(), { providers: [{ id: 'github', name: 'GitHub', loginUrl: '/auth/github/login' }] })
  const { app: bare } = await buildTestApp(t)
  t.same((await bare.inject('/auth/providers')).json(), { providers: [] })
  t.equal((await bare.inject('/auth/github/login')).statusCode, 404)
})

t.test('login redirects to GitHub with its scopes, PKCE S256 and the callback URL', async t => {
  const { app } = await build(t)
  const response = await browse(app, newBrowser(), '/auth/github/login')
  t.equal(response.statusCode, 302)
  const location = new URL(String(response.headers.location))
  t.equal(location.origin + location.pathname, `${github.webUrl}/login/oauth/authorize`)
  t.equal(location.searchParams.get('client_id'), github.clientId)
  t.equal(location.searchParams.get('redirect_uri'), 'http://localhost/auth/github/callback')
  t.equal(location.searchParams.get('scope'), 'read:user user:email')
  t.match(location.searchParams.get('state'), /^[\w-]{43}$/)
  t.equal(location.searchParams.get('code_challenge_method'), 'S256')
  t.match(location.searchParams.get('code_challenge'), /^[\w-]{43}$/)
})

t.test('what we send GitHub: one redirect_uri, the PKCE verifier, the secret in the body, JSON, a User-Agent on every API call', async t => {
  const { login } = await build(t)
  t.ok((await login()).code, 'the login succeeds')
  const authorize = github.requests.find(request => request.path === '/login/oauth/authorize')
  const token = github.requests.find(request => request.path === '/login/oauth/access_token')
  t.equal(token?.method, 'POST')
  t.equal(token?.body.redirect_uri, authorize?.query.redirect_uri, 'the same redirect_uri in both steps')
  t.equal(token?.body.client_secret, github.clientSecret)
  t.same(token?.query, {}, 'neither code nor secret in the token URL')
  const verifier = token?.body.code_verifier ?? ''
  t.match(verifier, /^[\w-]{43}$/)
  t.equal(createHash('sha256').update(verifier).digest('base64url'), authorize?.query.code_challenge, 'S256(verifier) = challenge')
  t.match(String(token?.headers.accept), /application\/json/, 'a JSON token reply, not GitHub\'s default form encoding')

  const api = github.requests.filter(request => request.path.startsWith('/api/v3/'))
  t.same(api.map(request => request.path).sort(), ['/api/v3/user', '/api/v3/user/emails'], 'the profile and the email list, once each')
  for (const call of api) {
    t.ok(call.headers['user-agent'], `${call.path} has a User-Agent (GitHub answers 403 without)`)
    t.match(String(call.headers.authorization), /^Bearer gho_/, `${call.path} carries the token`)
    t.equal(call.headers.accept, 'application/vnd.github+json')
  }
})

t.test('profile: the numeric id as a string, login as the suggested nickname, name, avatar, the primary verified email', async t => {
  const { app, login, exchange } = await build(t)
  const outcome = await login()
  t.match(await storedProfile(app), { provider: 'github', providerUserId: '583231', email: 'octocat@github.com', emailVerified: true }, 'GitHub vouches for a primary, verified address')
  const response = await exchange(outcome)
  t.same(response.json(), {
    status: 'signup_required',
    profile: { suggestedNickname: 'octocat', name: 'The Octocat', email: 'octocat@github.com', avatarUrl: octocat.avatar_url, provider: 'github' }
  })
})

// Only /user/emails speaks for an address; /user's `email` is the public one, set by the person.
const emailCases: Array<{ name: string, user?: Partial<GitHubUser>, emails?: GitHubEmail[], emailList?: 'no_scope', email: string | null, verified: boolean }> = [
  {
    name: 'a primary address not yet verified is kept, not vouched for',
    emails: [{ email: 'new@example.com', primary: true, verified: false, visibility: 'private' }],
    email: 'new@example.com',
    verified: false
  },
  {
    name: 'a verified address that is not the primary one is not used',
    emails: [{ email: 'old@example.com', primary: false, verified: true, visibility: null }, { email: 'main@example.com', primary: true, verified: false, visibility: null }],
    email: 'main@example.com',
    verified: false
  },
  {
    name: 'no primary address: no email',
    user: { email: 'public@example.com' },
    emails: [{ email: 'other@example.com', primary: false, verified: true, visibility: null }],
    email: null,
    verified: false
  },
  {
    name: 'a grant without user:email (GitHub answers 404): the login works without an email',
    user: { email: 'public@example.com' },
    emailList: 'no_scope',
    email: null,
    verified: false
  }
]
for (const { name, user, emails, emailList, email, verified } of emailCases) {
  t.test(`email from /user/emails: ${name}`, async t => {
    const { app, login } = await build(t)
    github.user = { ...github.user, ...user }
    if (emails !== undefined) github.emails = emails
    if (emailList !== undefined) github.emailList = emailList
    const outcome = await login()
    t.ok(outcome.code, `the login succeeds (error=${outcome.error})`)
    t.match(await storedProfile(app), { provider: 'github', providerUserId: '583231', email, emailVerified: verified })
  })
}

t.test('a user without a name or avatar signs up with what there is', async t => {
  const { login, exchange } = await build(t)
  github.user = { ...github.user, name: null, avatar_url: '' }
  const response = await exchange(await login())
  t.equal(response.json().status, 'signup_required')
  t.same(response.json().profile, { suggestedNickname: 'octocat', name: null, email: 'octocat@github.com', avatarUrl: null, provider: 'github' })
})

failures([
  { name: 'denied consent', expected: 'access_denied', setup: () => { github.authorize = 'deny' } },
  { name: 'provider token error (200 with error)', expected: 'provider_token_error', setup: () => { github.token = 'bad_verification_code' } },
  { name: 'token endpoint 500', expected: 'provider_token_error', setup: () => { github.token = 'status500' } },
  { name: 'token endpoint garbage', expected: 'provider_token_error', setup: () => { github.token = 'garbage' } },
  { name: 'token endpoint hangs', expected: 'provider_timeout', setup: () => { github.token = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'profile 401', expected: 'provider_profile_error', setup: () => { github.profile = 'unauthorized' } },
  { name: 'profile garbage', expected: 'provider_profile_error', setup: () => { github.profile = 'garbage' } },
  { name: 'profile hangs', expected: 'provider_timeout', setup: () => { github.profile = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'email list hangs', expected: 'provider_timeout', setup: () => { github.emailList = 'hang' }, env: { PROVIDER_TIMEOUT_MS: '300' } },
  { name: 'wrong client secret', expected: 'provider_token_error', env: { GITHUB_CLIENT_SECRET: 'wrong' } }
])
