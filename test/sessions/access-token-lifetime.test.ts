import { createSigner } from 'fast-jwt'
import t from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp, TEST_JWT_SECRET } from '../helpers/build-app.js'
import { newBrowser, signIn } from '../helpers/login.js'

// A leaked signing key must not mint long-lived tokens: an access token is accepted only with the
// lifetime we issue (exp - iat at most ACCESS_TOKEN_TTL_SECONDS, plus 60 s of clock skew) and an
// iat that is not in the future.

const github = await startFakeGitHub()
t.teardown(() => github.close())

t.test('tokens signed with our key but not shaped as we issue them are refused', async t => {
  const { app, config } = await buildTestApp(t, github.env)
  const browser = newBrowser()
  await signIn(app, browser)
  const valid = await browser.cookie('handoff_access') as string
  const [header, payload] = valid.split('.')
  const { iat: _iat, exp: _exp, ...claims } = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString())
  const sign = (times: { iat?: number, exp: number }) =>
    createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', kid, noTimestamp: times.iat === undefined })({ ...claims, ...times })
  const now = Math.floor(Date.now() / 1000)
  const ttl = config.accessTokenTtlSeconds

  const refused: Record<string, string> = {
    'exp ten years after iat': sign({ iat: now, exp: now + 10 * 365 * 86_400 }),
    'exp beyond the TTL plus the skew': sign({ iat: now, exp: now + ttl + 61 }),
    'no iat': sign({ exp: now + 60 }),
    'iat an hour in the future': sign({ iat: now + 3600, exp: now + 3600 + ttl }),
    'iat beyond the skew in the future': sign({ iat: now + 120, exp: now + 120 + ttl })
  }
  for (const [name, token] of Object.entries(refused)) {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const response = await app.inject({ url: '/auth/me', cookies: { handoff_access: token } })
      t.equal(response.statusCode, 401, `${name}: 401 (attempt ${attempt}, never remembered as verified)`)
      t.equal(response.json().code, 'not_authenticated', `${name}: not_authenticated`)
    }
  }

  const accepted: Record<string, string> = {
    'exp exactly iat + TTL': sign({ iat: now, exp: now + ttl }),
    'iat a little ahead (another instance\'s clock)': sign({ iat: now + 30, exp: now + 30 + ttl }),
    'an older token still within its lifetime': sign({ iat: now - 600, exp: now - 600 + ttl })
  }
  for (const [name, token] of Object.entries(accepted)) {
    t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: token } })).statusCode, 200, `${name}: 200`)
  }
  t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: valid } })).statusCode, 200, 'the token we issued: 200')
})

t.test('the bound follows ACCESS_TOKEN_TTL_SECONDS', async t => {
  const { app } = await buildTestApp(t, { ...github.env, ACCESS_TOKEN_TTL_SECONDS: '60' })
  const browser = newBrowser()
  await signIn(app, browser)
  const valid = await browser.cookie('handoff_access') as string
  const [header, payload] = valid.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  t.equal(claims.exp - claims.iat, 60, 'issued for 60 s')
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)
  const sign = (lifetime: number) => createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', kid })({ ...claims, iat: now, exp: now + lifetime })
  t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: sign(900) } })).statusCode, 401, 'the default 15 minutes is too long here')
  t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: sign(120) } })).statusCode, 200, 'TTL + skew is fine')
  t.equal((await app.inject({ url: '/auth/me', cookies: { handoff_access: valid } })).statusCode, 200)
})
