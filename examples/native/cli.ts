// A native app's login against handoff, as a command-line program (RFC 8252, "OAuth 2.0 for Native
// Apps", with a loopback redirect): what an iOS, Android, React Native or Flutter app does, with
// nothing but Node. Run it beside a server that lists the loopback redirect:
//
//   NATIVE_REDIRECT_URIS=http://127.0.0.1/callback npm run dev      # handoff, with the dev provider
//   npx tsx examples/native/cli.ts http://localhost:3000 dev         # then open the URL it prints
//
// It opens nothing by itself: it prints the URL, you open it in a browser, and the browser comes back
// to this program's listener with a one-time code. No token is ever printed.
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface NativeLoginOptions {
  /** handoff's address, e.g. http://localhost:3000 */
  server: string
  /** A provider id from GET /auth/providers: `dev`, `kakao`, `google`… */
  provider: string
  /** The nickname to sign up with on a first login (default: the suggested one). */
  nickname?: string
  /** Called with the URL to open in a browser. */
  onUrl: (url: string) => void
  log?: (line: string) => void
  /** How long to wait for the browser to come back (default: 5 minutes). */
  timeoutMs?: number
}

export interface NativeLoginResult {
  user: { id: string, nickname: string }
  /** Kept in memory only; a real app keeps them in the Keychain / Keystore. */
  tokens: { accessToken: string, refreshToken: string, expiresIn: number }
  /** What GET /users/me answered with the bearer token. */
  profile: { nickname: string, identities: Array<{ provider: string }> }
}

const base64url = (bytes: Buffer) => bytes.toString('base64url')
const random = () => base64url(randomBytes(32))

/** Waits for one GET /callback on 127.0.0.1 (any port, RFC 8252 §7.3) and answers the browser. */
function loopbackListener (): Promise<{ server: Server, redirectUri: string, callback: Promise<URLSearchParams> }> {
  return new Promise((resolve, reject) => {
    let deliver: (params: URLSearchParams) => void = () => {}
    const callback = new Promise<URLSearchParams>(resolve => { deliver = resolve })
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1')
      if (url.pathname !== '/callback') {
        response.writeHead(404).end()
        return
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<p>Signed in: you can close this window and go back to the app.</p>')
      deliver(url.searchParams)
    })
    server.on('error', reject)
    // Loopback only: nothing else on the network can deliver a code here.
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({ server, redirectUri: `http://127.0.0.1:${port}/callback`, callback })
    })
  })
}

/** A JSON call to handoff. X-Requested-With on every POST, as the API asks of every client. */
async function call (server: string, path: string, init: { body?: unknown, accessToken?: string } = {}): Promise<{ status: number, body: any }> {
  const response = await fetch(server + path, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      'x-requested-with': 'handoff-native-example',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.accessToken === undefined ? {} : { authorization: `Bearer ${init.accessToken}` })
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? null : JSON.parse(text) }
}

const fail = (step: string, answer: { status: number, body: any }) => new Error(`${step} answered ${answer.status} ${answer.body?.code ?? ''}: ${answer.body?.message ?? ''}`)

/** Path A end to end: login URL, loopback callback, exchange, signup if first, profile, refresh. */
export async function runNativeLogin ({ server, provider, nickname, onUrl, log = () => {}, timeoutMs = 300_000 }: NativeLoginOptions): Promise<NativeLoginResult> {
  const verifier = random()
  const challenge = base64url(createHash('sha256').update(verifier).digest())
  const state = random()
  // One per install: a refresh racing another of this app is honoured within the grace window.
  const deviceSecret = random()
  const { server: listener, redirectUri, callback } = await loopbackListener()
  let timer: NodeJS.Timeout | undefined
  try {
    const query = new URLSearchParams({ redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state })
    onUrl(`${server}/auth/${provider}/login?${query}`)
    const params = await Promise.race([callback, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('no login came back in time')), timeoutMs) })])
    // Our own state back, or this is not the login we started.
    if (params.get('state') !== state) throw new Error('the callback carries another state: ignored')
    const code = params.get('code')
    if (code === null) throw new Error(`the login ended with error=${params.get('error') ?? 'unknown'}`)
    log('got a one-time code; exchanging it with the PKCE verifier')

    let answer = await call(server, '/auth/exchange', { body: { code, code_verifier: verifier, client: 'native', deviceSecret } })
    if (answer.status !== 200) throw fail('POST /auth/exchange', answer)
    if (answer.body.status === 'signup_required') {
      const chosen = nickname ?? answer.body.profile.suggestedNickname
      log(`first login: signing up as ${chosen}`)
      answer = await call(server, '/auth/signup', { body: { nickname: chosen, signupToken: answer.body.signupToken, deviceSecret } })
      if (answer.status !== 201) throw fail('POST /auth/signup', answer)
    }
    const { user } = answer.body
    let tokens = answer.body.tokens
    log(`signed in as ${user.nickname}; the access token lives ${tokens.expiresIn} s`)

    const me = await call(server, '/users/me', { accessToken: tokens.accessToken })
    if (me.status !== 200) throw fail('GET /users/me', me)
    log(`GET /users/me: ${me.body.user.nickname}, identities: ${me.body.user.identities.map((identity: { provider: string }) => identity.provider).join(', ')}`)

    const refreshed = await call(server, '/auth/refresh', { body: { refreshToken: tokens.refreshToken, deviceSecret } })
    if (refreshed.status !== 200) throw fail('POST /auth/refresh', refreshed)
    tokens = refreshed.body.tokens
    log('refreshed: a new access token and a new refresh token (the old one no longer works)')
    return { user, tokens, profile: me.body.user }
  } finally {
    clearTimeout(timer)
    listener.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolvePath(process.argv[1])).href) {
  const [server = 'http://localhost:3000', provider = 'dev', nickname] = process.argv.slice(2)
  runNativeLogin({
    server: server.replace(/\/+$/, ''),
    provider,
    nickname,
    onUrl: url => console.log(`Open this URL in your browser:\n\n  ${url}\n`),
    log: line => console.log(line)
  }).then(
    ({ user }) => console.log(`done: ${user.nickname} (${user.id})`),
    error => {
      console.error(`failed: ${(error as Error).message}`)
      process.exitCode = 1
    }
  )
}
