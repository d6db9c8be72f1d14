import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, loginThroughProvider, newBrowser, signIn, signInWithDev } from '../helpers/login.js'

// A session records the identity whose login opened it, whichever way it was opened: the exchange
// of a returning user's code (one statement), the signup of a first-time user, the dev login. A
// provider's unlink notice then ends exactly the sessions that identity opened.

const github = await startFakeGitHub()
t.teardown(() => github.close())

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const sessionIdentities = async (app: App) => (await app.handoff.db.sql.query<{ identity_id: string | null }>('SELECT identity_id FROM sessions ORDER BY created_at, id')).map(row => row.identity_id)
const identityId = async (app: App, provider: string) => (await app.handoff.db.sql.query<{ id: string }>('SELECT id FROM identities WHERE provider = $1', [provider]))[0].id

t.test('signup and a returning user\'s exchange both record the identity on the session', async t => {
  const { app, clock } = await buildTestApp(t, github.env)
  await signIn(app, newBrowser())
  const github1 = await identityId(app, 'github')
  t.same(await sessionIdentities(app), [github1], 'the signup\'s session')
  clock.advance(1)
  const returning = await signIn(app, newBrowser())
  t.equal(returning.json().status, 'authenticated')
  t.same(await sessionIdentities(app), [github1, github1], 'the exchange\'s session')
  const [code] = await app.handoff.db.sql.query<{ identity_id: string }>('SELECT identity_id FROM login_codes WHERE user_id IS NOT NULL')
  t.equal(code.identity_id, github1, 'the code carried it')
})

t.test('the dev login records its identity too; a second identity of the account records itself', async t => {
  const { app, clock } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const user = (await signIn(app, newBrowser())).json().user as { id: string }
  // The same person's dev identity, on the same account (as a link would add it).
  await app.handoff.db.sql.query("INSERT INTO identities (user_id, provider, provider_user_id) VALUES ($1, 'dev', 'alice')", [user.id])
  clock.advance(1)
  const browser = newBrowser()
  await signInWithDev(app, browser, 'alice')
  t.equal((await browse(app, browser, '/auth/me')).json().user.id, user.id, 'signed in to the same account')
  t.same(await sessionIdentities(app), [await identityId(app, 'github'), await identityId(app, 'dev')])
})

t.test('a code minted through an identity unlinked before its exchange signs nobody in', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const owner = newBrowser()
  const user = (await signIn(app, owner)).json().user as { id: string }
  await app.handoff.db.sql.query("INSERT INTO identities (user_id, provider, provider_user_id, created_at) VALUES ($1, 'dev', 'alice', now() + interval '1 minute')", [user.id])
  const browser = newBrowser()
  const { params } = await loginThroughProvider(app, browser, 'github')
  const unlinked = await browse(app, owner, `/users/me/identities/${await identityId(app, 'github')}`, { method: 'DELETE' })
  t.equal(unlinked.statusCode, 204)
  const exchange = await browse(app, browser, '/auth/exchange', { method: 'POST', payload: { code: params.get('code') } })
  t.equal(exchange.statusCode, 400)
  t.equal(exchange.json().code, 'login_code_invalid')
  t.equal(await app.handoff.db.prisma.session.count(), 1, 'no session opened')
})
