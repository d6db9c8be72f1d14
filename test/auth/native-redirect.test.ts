import t from 'tap'
import { matchNativeRedirect, nativeRedirectUrl, parseNativeRedirectUris } from '../../src/auth/native-redirect.js'
import { ConfigError, loadConfig } from '../../src/config.js'

// NATIVE_REDIRECT_URIS and the match of a login's redirect_uri against it (RFC 8252 §7): pure rules,
// table-tested.

t.test('NATIVE_REDIRECT_URIS accepts private-use schemes, https and loopback http without a port', async t => {
  t.same(parseNativeRedirectUris(''), { uris: [] })
  t.same(parseNativeRedirectUris(' com.example.app:/oauth , https://app.example.com/native ,http://127.0.0.1/cb, http://[::1]/cb '), {
    uris: [
      { uri: 'com.example.app:/oauth', loopback: false },
      { uri: 'https://app.example.com/native', loopback: false },
      { uri: 'http://127.0.0.1/cb', loopback: true },
      { uri: 'http://[::1]/cb', loopback: true }
    ]
  })
})

t.test('NATIVE_REDIRECT_URIS refuses what RFC 8252 rules out, naming the entry', async t => {
  const cases: Array<[string, RegExp]> = [
    ['myapp:/oauth', /reverse domain name/],
    ['javascript:alert(1)', /reverse domain name/],
    ['http://app.example.com/cb', /only for the loopback/],
    ['http://localhost/cb', /not localhost/],
    ['http://127.0.0.1:8080/cb', /leave the port out/],
    ['https://app.example.com/cb#x', /no fragment/],
    ['https://user:pw@app.example.com/cb', /no user name/],
    ['/relative/cb', /not an absolute URI/]
  ]
  for (const [entry, problem] of cases) {
    const parsed = parseNativeRedirectUris(`com.example.app:/oauth,${entry}`)
    t.ok('problem' in parsed, `${entry} is refused`)
    if ('problem' in parsed) {
      t.match(parsed.problem, problem, `${entry}: ${parsed.problem}`)
      t.ok(parsed.problem.includes(entry), 'the entry is named')
    }
  }
  t.throws(() => loadConfig({ NATIVE_REDIRECT_URIS: 'myapp:/oauth' }), new ConfigError('Invalid setting NATIVE_REDIRECT_URIS: "myapp:/oauth": a private-use scheme must be a reverse domain name you control, like com.example.app:/oauth (RFC 8252 §7.1)'))
  t.throws(() => loadConfig({ KAKAO_NATIVE_APP_KEYS: 'abc' }), /KAKAO_NATIVE_APP_KEYS: is only used with KAKAO_CLIENT_ID/)
  t.throws(() => loadConfig({ GOOGLE_NATIVE_CLIENT_IDS: 'abc' }), /GOOGLE_NATIVE_CLIENT_IDS: is only used with GOOGLE_CLIENT_ID/)
  t.same(loadConfig({ KAKAO_CLIENT_ID: 'rest', KAKAO_NATIVE_APP_KEYS: 'a, b,a' }).kakao?.nativeAppKeys, ['a', 'b'], 'a list, trimmed, without repeats')
})

t.test('a redirect_uri matches a listed one exactly; a loopback one on any port', async t => {
  const parsed = parseNativeRedirectUris('com.example.app:/oauth,https://app.example.com/native,http://127.0.0.1/cb,http://[::1]/cb')
  if (!('uris' in parsed)) throw new Error(parsed.problem)
  const cases: Array<[string, string | undefined]> = [
    ['com.example.app:/oauth', 'com.example.app:/oauth'],
    ['COM.EXAMPLE.APP:/oauth', 'com.example.app:/oauth'],
    ['com.example.app:/oauth/', undefined],
    ['com.example.app:/oauth?x=1', undefined],
    ['com.example.app://oauth', undefined],
    ['https://app.example.com/native', 'https://app.example.com/native'],
    ['https://app.example.com:443/native', 'https://app.example.com/native'],
    ['https://app.example.com/native/', undefined],
    ['https://app.example.com.evil.example/native', undefined],
    ['https://app.example.com/native#frag', undefined],
    ['https://x@app.example.com/native', undefined],
    ['http://app.example.com/native', undefined],
    ['http://127.0.0.1:53682/cb', 'http://127.0.0.1:53682/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'],
    ['http://[::1]:9/cb', 'http://[::1]:9/cb'],
    ['http://127.0.0.1:53682/cb/x', undefined],
    ['http://127.0.0.1:53682/cb?x=1', undefined],
    ['https://127.0.0.1:53682/cb', undefined],
    ['http://127.0.0.2:53682/cb', undefined],
    ['http://localhost:53682/cb', undefined],
    ['http://[::1]:9/cb#x', undefined],
    ['not a uri', undefined]
  ]
  for (const [candidate, expected] of cases) t.equal(matchNativeRedirect(parsed.uris, candidate), expected, `${candidate} → ${expected ?? 'refused'}`)
})

t.test('the app\'s redirect carries our parameters in the query, its own kept', async t => {
  t.equal(nativeRedirectUrl('com.example.app:/oauth', { code: 'abc', state: 'x y', returnTo: undefined }), 'com.example.app:/oauth?code=abc&state=x+y')
  t.equal(nativeRedirectUrl('https://app.example.com/native?tab=1', { error: 'access_denied' }), 'https://app.example.com/native?tab=1&error=access_denied')
  t.equal(nativeRedirectUrl('http://127.0.0.1:5000/cb', { code: 'c', state: '&evil=1' }), 'http://127.0.0.1:5000/cb?code=c&state=%26evil%3D1')
})
