import Fastify from 'fastify'
import { OAuth2Server } from 'oauth2-mock-server'
import t from 'tap'
import handoff, { loadConfig, type Provider } from '../../src/index.js'
import { buildTestApp, FRONTEND_URL, PUBLIC_URL, TEST_JWT_SECRET, TEST_PROVIDER_TOKEN_KEY } from '../helpers/build-app.js'
import { freshTestDatabase } from '../helpers/database.js'
import { browse, loginThroughProvider, newBrowser, signIn } from '../helpers/login.js'

// Several OpenID Connect issuers side by side, OIDC_<NAME>_*, each under its own provider id,
// alongside the single OIDC_* one: two oauth2-mock-server instances.

interface Issuer { server: OAuth2Server, url: string, redirectUris: string[], tokenRedirectUris: string[] }

async function startIssuer (username: string): Promise<Issuer> {
  const server = new OAuth2Server()
  await server.issuer.keys.generate('RS256')
  await server.start(0, '127.0.0.1')
  t.teardown(() => server.stop())
  const issuer: Issuer = { server, url: String(server.issuer.url), redirectUris: [], tokenRedirectUris: [] }
  server.service.on('beforeUserinfo', (response: { body: Record<string, unknown> }) => {
    response.body = { ...response.body, preferred_username: username }
  })
  server.service.on('beforeAuthorizeRedirect', (_redirect: unknown, request: { query: Record<string, string> }) => {
    issuer.redirectUris.push(request.query.redirect_uri)
  })
  server.service.on('beforeResponse', (_response: unknown, request: { body: Record<string, string> }) => {
    issuer.tokenRedirectUris.push(request.body.redirect_uri)
  })
  return issuer
}

const staff = await startIssuer('staffer')
const partner = await startIssuer('partner')

const env = () => ({
  OIDC_STAFF_ISSUER: staff.url,
  OIDC_STAFF_CLIENT_ID: 'staff-client',
  OIDC_STAFF_CLIENT_SECRET: 'staff-secret',
  OIDC_STAFF_NAME: 'Staff SSO',
  OIDC_PARTNER_CO_ISSUER: partner.url,
  OIDC_PARTNER_CO_CLIENT_ID: 'partner-client',
  OIDC_PARTNER_CO_CLIENT_SECRET: 'partner-secret',
  OIDC_PARTNER_CO_SCOPES: 'openid profile',
  // The single issuer keeps its settings and its id.
  OIDC_ISSUER: partner.url,
  OIDC_CLIENT_ID: 'single-client',
  OIDC_CLIENT_SECRET: 'single-secret',
  OIDC_NAME: 'Company SSO'
})

t.test('each issuer is listed under its own id and signs in through its own callback URL', async t => {
  const { app } = await buildTestApp(t, env())
  t.same((await app.inject('/auth/providers')).json().providers, [
    { id: 'oidc', name: 'Company SSO', loginUrl: '/auth/oidc/login' },
    { id: 'partner-co', name: 'partner-co', loginUrl: '/auth/partner-co/login' },
    { id: 'staff', name: 'Staff SSO', loginUrl: '/auth/staff/login' }
  ], 'OIDC_PARTNER_CO_* is partner-co, named by its id when it has no OIDC_PARTNER_CO_NAME')

  const users = new Map<string, { userId: string, identities: Array<{ provider: string }> }>()
  for (const id of ['staff', 'partner-co', 'oidc']) {
    const browser = newBrowser()
    const signup = await signIn(app, browser, id)
    t.equal(signup.statusCode, 201, `${id}: signed up`)
    const me = (await browse(app, browser, '/users/me')).json().user
    users.set(id, { userId: me.id, identities: me.identities })
  }
  t.same(users.get('staff')?.identities.map(identity => identity.provider), ['staff'])
  t.same(users.get('partner-co')?.identities.map(identity => identity.provider), ['partner-co'])
  t.same(users.get('oidc')?.identities.map(identity => identity.provider), ['oidc'])
  t.equal(new Set([...users.values()].map(user => user.userId)).size, 3, 'three accounts: one sub at two issuers, or at one issuer under two ids, is not one person')

  t.same(staff.redirectUris, [`${PUBLIC_URL}/auth/staff/callback`])
  t.same(staff.tokenRedirectUris, staff.redirectUris, 'the same redirect_uri at the token endpoint')
  t.same(partner.redirectUris, [`${PUBLIC_URL}/auth/partner-co/callback`, `${PUBLIC_URL}/auth/oidc/callback`])
  t.same(partner.tokenRedirectUris, partner.redirectUris)

  const identities = await app.handoff.db.prisma.identity.findMany({ orderBy: { provider: 'asc' } })
  t.same(identities.map(identity => [identity.provider, identity.providerUserId]), [
    ['oidc', `${partner.url}#johndoe`],
    ['partner-co', `${partner.url}#johndoe`],
    ['staff', `${staff.url}#johndoe`]
  ], 'an identity is (issuer, sub), under the id it signed in with')
})

t.test('a callback is checked against its own provider\'s login: a state from another issuer is refused', async t => {
  const { app } = await buildTestApp(t, env())
  const { params } = await loginThroughProvider(app, newBrowser(), 'staff', {
    tamperCallback: url => { url.pathname = '/auth/partner-co/callback' }
  })
  t.equal(params.get('error'), 'invalid_state')
})

t.test('an issuer that cannot be discovered stops the app at start, naming its setting', async t => {
  await t.rejects(buildTestApp(t, { ...env(), OIDC_STAFF_ISSUER: `${staff.url}/nowhere` }), /Invalid setting OIDC_STAFF_ISSUER: discovery failed: provider answered 404/)
})

t.test('OIDC_<NAME>_* settings are checked like the others', async t => {
  const base = { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET }
  const staffEnv = { OIDC_STAFF_ISSUER: 'https://sso.example.com', OIDC_STAFF_CLIENT_ID: 'id', OIDC_STAFF_CLIENT_SECRET: 'secret' }
  const { OIDC_STAFF_CLIENT_SECRET: _secret, ...withoutSecret } = staffEnv
  const { OIDC_STAFF_CLIENT_ID: _id, ...withoutId } = staffEnv
  t.throws(() => loadConfig({ ...base, ...withoutSecret }), /^Invalid setting OIDC_STAFF_CLIENT_SECRET: is required for the OpenID Connect issuer OIDC_STAFF_\* \(provider id "staff"\)$/)
  t.throws(() => loadConfig({ ...base, ...withoutId }), /Invalid setting OIDC_STAFF_CLIENT_ID: is required/, 'a typo in the id setting is not silently ignored')
  t.throws(() => loadConfig({ ...base, OIDC_STAFF_SCOPES: 'openid' }), /Invalid setting OIDC_STAFF_CLIENT_ID: is required/)
  t.throws(() => loadConfig({ ...base, ...staffEnv, OIDC_STAFF_ISSUER: 'sso.example.com' }), /Invalid setting OIDC_STAFF_ISSUER: must match pattern/)
  t.throws(() => loadConfig({ ...base, ...staffEnv, OIDC_STAFF_NAME: 'x'.repeat(65) }), /Invalid setting OIDC_STAFF_NAME: must NOT have more than 64 characters/)
  for (const name of ['GITHUB', 'GOOGLE', 'DEV', 'OIDC']) {
    t.throws(() => loadConfig({ ...base, [`OIDC_${name}_CLIENT_ID`]: 'id' }), new RegExp(`Invalid setting OIDC_${name}_CLIENT_ID: the provider id "${name.toLowerCase()}" is a built-in provider's`))
  }
  for (const setting of ['OIDC_Staff_ISSUER', 'OIDC__STAFF_ISSUER', 'OIDC_STAFF__X_ISSUER', 'OIDC_STAFF-X_ISSUER', 'OIDC_../X_ISSUER', `OIDC_${'X'.repeat(33)}_ISSUER`]) {
    t.throws(() => loadConfig({ ...base, [setting]: 'https://sso.example.com' }), new RegExp(`Invalid setting ${setting.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: in OIDC_<NAME>_\\*, NAME must be upper-case letters and digits`), setting)
  }

  const config = loadConfig({ ...base, ...staffEnv, OIDC_A1_B2_CLIENT_ID: 'x', OIDC_A1_B2_ISSUER: 'http://127.0.0.1:1', OIDC_A1_B2_CLIENT_SECRET: 'y' })
  t.same(config.oidcIssuers.map(issuer => [issuer.id, issuer.settingPrefix, issuer.scopes, issuer.displayName]), [
    ['a1-b2', 'OIDC_A1_B2', ['openid', 'email', 'profile'], 'a1-b2'],
    ['staff', 'OIDC_STAFF', ['openid', 'email', 'profile'], 'staff']
  ])
  t.equal(config.oidc, undefined, 'the single OIDC_* issuer stays off without OIDC_CLIENT_ID')
})

t.test('an extra provider cannot take an OIDC_<NAME> issuer\'s id', async t => {
  const app = Fastify()
  const provider = { id: 'staff' } as Provider
  await t.rejects(async () => app.register(handoff, {
    settings: { NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PROVIDER_TOKEN_KEYS: TEST_PROVIDER_TOKEN_KEY, PUBLIC_URL, FRONTEND_URL, LOG_LEVEL: 'silent', ...env() },
    database: (await freshTestDatabase()).target,
    providers: [provider]
  }), /Invalid option providers\[0\]\.id: "staff" is the id of another provider/)
})

t.test('a named issuer\'s "verified" email joins an existing account only with OIDC_<NAME>_TRUST_EMAIL=true', async t => {
  // A partner's IdP may let its users type any address and call it verified: by default its
  // logins never join an account by email (an account takeover otherwise).
  const lax = await startIssuer('lax')
  lax.server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    token.payload.email = 'owner@example.com'
    token.payload.email_verified = true
  })
  const laxEnv = { OIDC_LAX_ISSUER: lax.url, OIDC_LAX_CLIENT_ID: 'lax-client', OIDC_LAX_CLIENT_SECRET: 'lax-secret' }
  for (const trust of [undefined, 'true'] as const) {
    const { app } = await buildTestApp(t, { ...laxEnv, ...(trust === undefined ? {} : { OIDC_LAX_TRUST_EMAIL: trust }) })
    const owner = await app.handoff.db.prisma.user.create({ data: { nickname: 'owner', nicknameKey: 'owner', email: 'owner@example.com', emailVerified: true } })
    const browser = newBrowser()
    const { params } = await loginThroughProvider(app, browser, 'lax')
    const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
    const identities = await app.handoff.db.prisma.identity.findMany({ where: { provider: 'lax' } })
    if (trust === undefined) {
      t.equal(exchange.json().status, 'signup_required', 'untrusted by default: a new person, not the owner')
      t.same(identities, [], 'nothing linked to the owner')
    } else {
      t.equal(exchange.json().status, 'authenticated', 'OIDC_LAX_TRUST_EMAIL=true: signed in as the owner')
      t.same(identities.map(identity => identity.userId), [owner.id])
    }
  }
})
