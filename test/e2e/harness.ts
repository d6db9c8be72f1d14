import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { demoRoot } from '../../src/paths.js'
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.js'
import { TEST_JWT_SECRET } from '../helpers/build-app.js'
import { freshTestDatabase } from '../helpers/database.js'

// The real server (buildApp + listen) serving the built SPA, a fake GitHub, and Debian's Chromium.
// The app and the SPA share one origin, as with DEMO_APP=true in production.

export const ARTIFACTS = new URL('./artifacts/', import.meta.url)
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

interface Tap { teardown(fn: () => unknown): void }

/** PUBLIC_URL must be known before buildApp: take a free port, then listen on it. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise(resolve => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export async function launchBrowser (t: Tap): Promise<Browser> {
  if (!existsSync(`${demoRoot}index.html`)) throw new Error('the SPA is not built: run `npm run build:spa` (npm run test:e2e does)')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  return browser
}

export interface Server { app: FastifyInstance, base: string, github: FakeGitHub }

export async function startServer (t: Tap, env: Record<string, string> = {}): Promise<Server> {
  const github = await startFakeGitHub()
  t.teardown(() => github.close())
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    PUBLIC_URL: base,
    DEV_LOGIN: 'true',
    DEMO_APP: 'true',
    LOG_LEVEL: 'silent',
    ...github.env,
    ...env
  })
  const app = await buildApp({ config, database: (await freshTestDatabase()).target })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port })
  return { app, base, github }
}

export interface SentRequest { url: string, method: string, referer?: string, postData: string | null }

/** One browser profile, recording every request it sends, every URL it visits and every Set-Cookie it gets. */
export class Session {
  readonly requests: SentRequest[] = []
  readonly visited: string[] = []
  private readonly setCookies: Array<Promise<string[]>> = []

  private constructor (readonly context: BrowserContext, readonly server: Server) {
    context.on('request', request => this.requests.push({ url: request.url(), method: request.method(), referer: request.headers().referer, postData: request.postData() }))
    context.on('response', response => {
      this.setCookies.push(response.headersArray().then(headers => headers.filter(header => header.name.toLowerCase() === 'set-cookie').map(header => header.value)))
    })
    context.on('page', page => page.on('framenavigated', frame => { if (frame === page.mainFrame()) this.visited.push(frame.url()) }))
  }

  /** `locale` sets navigator.languages and Accept-Language: the demo speaks Korean to ko-KR, English to en-US. */
  static async open (browser: Browser, server: Server, options: { locale?: string } = {}): Promise<Session> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 820 }, locale: options.locale ?? 'en-US' })
    const session = new Session(context, server)
    // Hermetic: nothing leaves the machine (the fake GitHub's avatar URL points at the real GitHub).
    // 127.0.0.2 is another site on this machine, for a provider that must be cross-site (the fake Apple).
    await context.route(url => url.hostname !== '127.0.0.1' && url.hostname !== '127.0.0.2', route => route.abort())
    return session
  }

  async page (path = '/'): Promise<Page> {
    const page = await this.context.newPage()
    await page.goto(this.server.base + path)
    return page
  }

  /**
   * Every secret cookie value the server ever set (access, refresh, signup, PKCE verifier…), rotated
   * ones included. Not the OAuth state: it travels in the provider's URL by design.
   */
  async issuedSecrets (): Promise<string[]> {
    const pairs = (await Promise.all(this.setCookies)).flat().map(line => line.split(';')[0].split('='))
    return pairs
      .filter(([name]) => !/handoff_\w+_(state|return_to)$/.test(name))
      .map(([, ...value]) => value.join('='))
      .filter(value => value.length >= 16)
  }

  /** The one-time codes the SPA exchanged, read from the POST bodies. */
  exchangedCodes (): string[] {
    return this.requests
      .filter(request => request.method === 'POST' && request.url === `${this.server.base}/auth/exchange`)
      .map(request => (JSON.parse(request.postData ?? '{}') as { code: string }).code)
  }

  close (): Promise<void> { return this.context.close() }
}

export async function screenshot (page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true })
}

/** Signs in through the dev provider's form as a given identity; ends on the SPA. */
export async function devLogin (page: Page, identity: { id: string, nickname?: string, name?: string, email?: string }, options: { deny?: boolean, shot?: string } = {}): Promise<void> {
  await page.getByRole('link', { name: 'Continue with Dev login' }).click()
  await page.waitForURL(/\/auth\/dev\/login/)
  await page.fill('#id', identity.id)
  if (identity.nickname !== undefined) await page.fill('#nickname', identity.nickname)
  if (identity.name !== undefined) await page.fill('#name', identity.name)
  if (identity.email !== undefined) await page.fill('#email', identity.email)
  if (options.shot !== undefined) await screenshot(page, options.shot)
  await page.getByRole('button', { name: options.deny === true ? 'Deny' : 'Sign in' }).click()
  await page.waitForURL(url => url.pathname === '/' || !url.pathname.startsWith('/auth/'))
}

/** Picks a nickname on the signup form and waits for the profile. */
export async function chooseNickname (page: Page, nickname: string): Promise<void> {
  await page.fill('#nickname', nickname)
  await page.locator('.field-status.ok').waitFor()
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByTestId('profile').waitFor()
}
