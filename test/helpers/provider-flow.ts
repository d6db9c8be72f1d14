import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { HandoffHooks } from '../../src/lifecycle-hooks.js'
import type { RecordedRequest } from '../fakes/recorder.js'
import { buildTestApp, FRONTEND_URL, type FakeClock, type TestApp } from './build-app.js'
import type { Browser } from './cookies.js'
import { browse, loginThroughProvider, newBrowser, type LoginOutcome } from './login.js'

// The setup every provider test repeats: one fake for the file, an app per test built with the
// provider's settings pointing at it, and the browser's login → provider → callback → exchange.

export interface ProviderLogin extends LoginOutcome {
  browser: Browser
  /** The one-time code the frontend got, or null when the login ended with `error=`. */
  code: string | null
  error: string | null
}

export interface ProviderApp extends TestApp {
  /** Login, the fake's authorize page (over real HTTP), and our callback, in a new browser unless one is given. */
  login(options?: { browser?: Browser, loginQuery?: string, tamperCallback?: (url: URL) => void }): Promise<ProviderLogin>
  /** POST /auth/exchange with the login's one-time code, from the login's browser. */
  exchange(login: ProviderLogin): Promise<LightMyRequestResponse>
}

/** A login that must end on the frontend with `error=<expected>`. */
export interface FailureCase {
  name: string
  expected: string
  /** Runs after the app is built, before the login: set the fake's behaviour. */
  setup?: () => void
  /** Changes the provider's redirect to our callback before the browser follows it. */
  tamper?: (url: URL) => void
  /** Settings over the provider's own. */
  env?: Record<string, string>
}

export interface ProviderFlow<F> {
  fake: F
  /** The app on a fresh database with the fake's settings, and `env` over them. */
  build(t: Test, env?: Record<string, string>, options?: { logs?: boolean, clock?: FakeClock, hooks?: HandoffHooks }): Promise<ProviderApp>
  /** One test per case: error=<expected> on the frontend, no one-time code, no user, no code row. */
  failures(cases: FailureCase[]): void
}

interface Fake { requests?: RecordedRequest[], env?: Record<string, string>, close(): Promise<void> }

/**
 * Starts the fake for this test file (closed at its end) and returns the per-test setup. Before each
 * test the fake forgets its requests and `reset` puts its behaviour back. `settings` picks the env
 * that points handoff at the fake (the fake's own `env` unless given).
 */
export async function providerFlow<F extends Fake> (provider: string, start: () => Promise<F>, options: { reset?: (fake: F) => void, settings?: (fake: F) => Record<string, string> } = {}): Promise<ProviderFlow<F>> {
  const fake = await start()
  t.teardown(() => fake.close())
  t.beforeEach(() => {
    if (fake.requests !== undefined) fake.requests.length = 0
    options.reset?.(fake)
  })
  const settings = options.settings ?? ((fake: F) => fake.env ?? {})

  async function build (t: Test, env: Record<string, string> = {}, buildOptions: { logs?: boolean, clock?: FakeClock, hooks?: HandoffHooks } = {}): Promise<ProviderApp> {
    const testApp = await buildTestApp(t, { ...settings(fake), ...env }, buildOptions)
    const { app } = testApp
    return Object.assign(testApp, {
      async login (loginOptions: { browser?: Browser, loginQuery?: string, tamperCallback?: (url: URL) => void } = {}): Promise<ProviderLogin> {
        const browser = loginOptions.browser ?? newBrowser()
        const outcome = await loginThroughProvider(app, browser, provider, loginOptions)
        return { ...outcome, browser, code: outcome.params.get('code'), error: outcome.params.get('error') }
      },
      async exchange (login: ProviderLogin): Promise<LightMyRequestResponse> {
        if (login.code === null) throw new Error(`login ended with error=${login.error}`)
        return browse(app, login.browser, '/auth/exchange', { method: 'POST', payload: { code: login.code } })
      }
    })
  }

  function failures (cases: FailureCase[]): void {
    for (const failure of cases) {
      t.test(`${failure.name}: redirect to the frontend with error=${failure.expected}, nothing written`, async t => {
        const testApp = await build(t, failure.env)
        failure.setup?.()
        await expectLoginFailure(t, testApp, await testApp.login({ tamperCallback: failure.tamper }), failure.expected)
      })
    }
  }

  return { fake, build, failures }
}

/** The callback sent the browser to the frontend with `error=<expected>` and wrote nothing. */
export async function expectLoginFailure (t: Test, { app }: TestApp, login: LoginOutcome, expected: string): Promise<void> {
  t.equal(login.callbackResponse.statusCode, 302, 'the callback redirects')
  t.equal(login.location.origin + login.location.pathname, FRONTEND_URL, 'to the frontend')
  t.equal(login.params.get('error'), expected, `with error=${expected}`)
  t.equal(login.params.get('code'), null, 'and no one-time code')
  t.equal(await app.handoff.db.prisma.user.count(), 0, 'no user')
  t.equal(await app.handoff.db.prisma.loginCode.count(), 0, 'no login code')
}
