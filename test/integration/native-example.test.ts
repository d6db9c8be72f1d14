import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { runNativeLogin } from '../../examples/native/cli.js'
import { startFakeKakao } from '../fakes/kakao.js'
import { CHILD_PROCESS_ENV } from '../helpers/child-env.js'
import { buildTestApp } from '../helpers/build-app.js'
import { Browser } from '../helpers/cookies.js'

// examples/native/cli.ts against the real server on a real port: the program listens on loopback,
// prints the URL, and this test plays the system browser (the dev provider's form, or Kakao's fake
// authorize page), which lands on the program's listener with the code. The program then exchanges
// it, reads GET /users/me with its bearer token and refreshes.

const kakao = await startFakeKakao()
t.teardown(() => kakao.close())

/** A free port on loopback, so PUBLIC_URL (the provider's redirect back to us) can name it before the app starts. */
async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise(resolve => probe.close(resolve))
  return port
}

async function listeningServer (t: Parameters<typeof buildTestApp>[0], env: Record<string, string>): Promise<{ origin: string, testApp: Awaited<ReturnType<typeof buildTestApp>> }> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const testApp = await buildTestApp(t, { NATIVE_REDIRECT_URIS: 'http://127.0.0.1/callback', PUBLIC_URL: origin, ...env })
  await testApp.app.listen({ host: '127.0.0.1', port })
  return { origin, testApp }
}

/** The system browser: follows redirects by hand, keeping cookies, until it leaves `origin`'s providers for the app's loopback listener. */
async function follow (browser: Browser, url: string, init: RequestInit = {}): Promise<Response> {
  let response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers as Record<string, string>, cookie: await browser.cookieHeader(url) } })
  await browser.store(url, response)
  let current = url
  while (response.status === 302) {
    current = new URL(String(response.headers.get('location')), current).toString()
    response = await fetch(current, { redirect: 'manual', headers: { cookie: await browser.cookieHeader(current) } })
    await browser.store(current, response)
  }
  return response
}

t.test('the example signs up through the dev provider, calls /users/me with its bearer token and refreshes', async t => {
  const { origin, testApp } = await listeningServer(t, { DEV_LOGIN: 'true' })
  const browser = new Browser(origin)
  const lines: string[] = []
  let landed: Promise<Response> | undefined
  const result = await runNativeLogin({
    server: origin,
    provider: 'dev',
    nickname: 'cli_user',
    timeoutMs: 20_000,
    log: line => lines.push(line),
    onUrl: url => {
      landed = (async () => {
        const form = await follow(browser, url)
        const state = /name="state" value="([^"]+)"/.exec(await form.text())?.[1] as string
        const body = new URLSearchParams({ state, decision: 'allow', id: 'cli-1', nickname: 'cli', email: 'cli@dev.example' }).toString()
        // The form's POST ends, through our callback's redirect, on the program's loopback listener.
        return follow(browser, `${origin}/auth/dev/callback`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      })()
    }
  })
  const page = await landed as Response
  t.equal(page.status, 200, 'the browser landed on the program\'s listener')
  t.match(await page.text(), /close this window/)
  t.equal(result.user.nickname, 'cli_user', 'signed up with the chosen nickname')
  t.same(result.profile.identities.map(identity => identity.provider), ['dev'], 'GET /users/me answered the bearer token')
  t.ok(result.tokens.refreshToken, 'and the refresh gave a new refresh token')
  t.same(lines.map(line => line.replace(/\d+ s/, 'N s')), [
    'got a one-time code; exchanging it with the PKCE verifier',
    'first login: signing up as cli_user',
    'signed in as cli_user; the access token lives N s',
    'GET /users/me: cli_user, identities: dev',
    'refreshed: a new access token and a new refresh token (the old one no longer works)'
  ])
  t.notOk(lines.join('\n').includes(result.tokens.accessToken) || lines.join('\n').includes(result.tokens.refreshToken), 'no token in its output')
  const sessions = await testApp.app.handoff.db.prisma.session.findMany()
  t.same(sessions.map(session => session.client), ['native'], 'one native session')
  t.ok(sessions[0].deviceHash, 'bound to the program\'s device secret')
  t.equal(await testApp.app.handoff.db.prisma.refreshToken.count({ where: { rotatedAt: { not: null } } }), 1, 'refreshed once')
})

t.test('the example through Kakao\'s authorize page (the fake), a returning user the second time', async t => {
  const { origin } = await listeningServer(t, kakao.env)
  const browser = new Browser(origin)
  const run = () => runNativeLogin({
    server: origin,
    provider: 'kakao',
    timeoutMs: 20_000,
    // A failure here shows as the program's timeout.
    onUrl: url => { follow(browser, url).catch(() => {}) }
  })
  const first = await run()
  t.equal(first.user.nickname, '홍길동', 'the suggested nickname')
  const second = await run()
  t.equal(second.user.id, first.user.id, 'the same account')
  t.same(second.profile.identities.map(identity => identity.provider), ['kakao'])
})

t.test('the example runs as a program: it prints the URL and exits 0 once the browser came back', async t => {
  const { origin } = await listeningServer(t, { DEV_LOGIN: 'true' })
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/native/cli.ts', origin, 'dev', 'cli_proc'], { env: { ...process.env, ...CHILD_PROCESS_ENV }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill() })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', chunk => {
      output += String(chunk)
      const match = /^\s+(http\S+)$/m.exec(output)
      if (match !== null) resolve(match[1])
    })
    child.on('exit', code => reject(new Error(`exited ${code}: ${output}`)))
  })
  const browser = new Browser(origin)
  const form = await follow(browser, url)
  const state = /name="state" value="([^"]+)"/.exec(await form.text())?.[1] as string
  await follow(browser, `${origin}/auth/dev/callback`, { method: 'POST', body: new URLSearchParams({ state, decision: 'allow', id: 'proc-1' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  t.equal(code, 0, output)
  t.match(output, /done: cli_proc \(/)
})
