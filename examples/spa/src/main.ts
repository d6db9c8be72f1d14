import { ApiError, api, authed, currentUser, exchange, linkProvider, logout, nicknameAvailability, refresh, signup, takeHandoff, unlinkIdentity, type SignupProfile, type User } from './auth.js'
import { describeError } from './messages.js'
import './style.css'

// First, before any other work: take the one-time code out of the address bar and history.
const handoff = takeHandoff()

interface Identity { id: string, provider: string, email: string | null, emailVerified: boolean, linkedAt: string, lastLoginAt: string }
interface Profile { id: string, nickname: string, name: string | null, email: string | null, avatarUrl: string | null, createdAt: string, identities: Identity[] }
interface Session { id: string, createdAt: string, lastUsedAt: string, userAgent: string | null, ip: string | null, current: boolean }
interface Provider { id: string, name: string, loginUrl: string }

const root = document.getElementById('app') as HTMLElement

/** A tiny element builder: text is always set as text, never parsed as HTML. */
function h<K extends keyof HTMLElementTagNameMap> (tag: K, props: Partial<Record<string, string | boolean | EventListener>> = {}, ...children: Array<Node | string | null | false>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value)
    else if (value === true) element.setAttribute(key, '')
    else if (typeof value === 'string') element.setAttribute(key, value)
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== false))
  return element
}

const messageText = (error: unknown) => error instanceof ApiError ? describeError(error.code, error.message) : describeError('network_error')
function banner (text: string, kind: 'error' | 'info' = 'error') {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'message' }, text)
}
let pending: HTMLElement | null = null
/** Shows a message above the next screen (or the current one). */
function notify (text: string, kind: 'error' | 'info' = 'error') {
  pending = banner(text, kind)
  root.querySelector('.message')?.replaceWith(pending)
  if (!root.contains(pending)) root.prepend(pending)
}
function show (...nodes: Node[]) {
  root.replaceChildren(...(pending === null ? [] : [pending]), ...nodes)
  pending = null
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const when = (iso: string) => dateTime.format(new Date(iso))
const providerNames: Record<string, string> = { github: 'GitHub', kakao: 'Kakao', naver: 'Naver', google: 'Google', oidc: 'OpenID Connect', dev: 'Dev login' }

function avatar (url: string | null, nickname: string, size = 'large') {
  const fallback = h('span', { class: `avatar ${size} initial`, 'aria-hidden': 'true' }, [...nickname][0]?.toUpperCase() ?? '?')
  if (url === null) return fallback
  const image = h('img', { class: `avatar ${size}`, src: url, alt: '', referrerpolicy: 'no-referrer' })
  image.addEventListener('error', () => image.replaceWith(fallback))
  return image
}

async function signedOut () {
  let providers: Provider[] = []
  try {
    providers = (await api<{ providers: Provider[] }>('/auth/providers')).providers
  } catch (error) {
    notify(messageText(error))
  }
  const returnTo = location.pathname === '/' ? '' : `?returnTo=${encodeURIComponent(location.pathname)}`
  show(h('section', { class: 'card narrow' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'lead' }, 'Choose how you want to continue. Your tokens stay in HttpOnly cookies, never in a URL.'),
    providers.length === 0
      ? h('p', { class: 'hint' }, 'No provider is enabled. Start the server with DEV_LOGIN=true or set GITHUB_CLIENT_ID.')
      : h('div', { class: 'providers' }, ...providers.map(provider =>
        h('a', { class: `button provider provider-${provider.id}`, href: provider.loginUrl + returnTo }, `Continue with ${provider.name}`)))
  ))
}

function signupForm (profile: SignupProfile, returnTo: string | undefined) {
  const input = h('input', { id: 'nickname', name: 'nickname', autocomplete: 'username', required: true, maxlength: '40', value: profile.suggestedNickname, 'aria-describedby': 'nickname-status' })
  const status = h('p', { id: 'nickname-status', class: 'field-status', 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit', class: 'button' }, 'Create account')
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: AbortController | undefined

  // Live availability, debounced: one check 300 ms after the last keystroke, stale answers dropped.
  const check = () => {
    clearTimeout(timer)
    inFlight?.abort()
    const nickname = input.value
    status.className = 'field-status'
    status.textContent = nickname.trim() === '' ? '' : 'Checking…'
    timer = setTimeout(async () => {
      if (nickname.trim() === '') return
      inFlight = new AbortController()
      try {
        const answer = await nicknameAvailability(nickname, inFlight.signal)
        status.className = `field-status ${answer.available ? 'ok' : 'bad'}`
        status.textContent = answer.message
      } catch (error) {
        if ((error as Error).name === 'AbortError') return
        status.className = 'field-status bad'
        status.textContent = messageText(error)
      }
    }, 300)
  }
  input.addEventListener('input', check)

  const form = h('form', { class: 'stack', novalidate: true },
    h('label', { for: 'nickname' }, 'Nickname'), input, status, submit)
  form.addEventListener('submit', async event => {
    event.preventDefault()
    submit.disabled = true
    try {
      await signup(input.value)
      if (returnTo !== undefined) history.replaceState(null, '', returnTo)
      await start()
    } catch (error) {
      if (error instanceof ApiError && error.code === 'signup_invalid') {
        notify(messageText(error))
        return signedOut()
      }
      status.className = 'field-status bad'
      status.textContent = messageText(error)
      submit.disabled = false
      input.focus()
    }
  })

  const via = providerNames[profile.provider] ?? profile.provider
  show(h('section', { class: 'card narrow' },
    h('div', { class: 'welcome' }, avatar(profile.avatarUrl, profile.suggestedNickname),
      h('div', {}, h('h1', {}, `Welcome${profile.name === null ? '' : `, ${profile.name}`}`),
        h('p', { class: 'lead' }, `Signed in with ${via}${profile.email === null ? '' : ` as ${profile.email}`}. Pick the nickname others will see.`))),
    form,
    h('p', { class: 'hint' }, '2 to 20 characters: 한글, letters, digits, _ and . (not only digits).')))
  check()
  input.focus()
}

async function sessionsSection (): Promise<HTMLElement> {
  const section = h('section', { class: 'card', 'data-testid': 'sessions' }, h('h2', {}, 'Sessions'))
  let sessions: Session[]
  try {
    const body = await authed<Session[] | { sessions: Session[] }>('/auth/sessions')
    sessions = Array.isArray(body) ? body : body.sessions
  } catch (error) {
    // The session list arrived after the first release: an older server answers 404.
    if (error instanceof ApiError && error.status === 404) {
      section.append(h('p', { class: 'hint' }, 'This server does not list sessions yet.'))
      return section
    }
    throw error
  }
  const revoke = (session: Session) => async () => {
    try {
      await authed(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' })
      if (session.current) {
        notify('This device was signed out.', 'info')
        return signedOut()
      }
      notify('Session revoked: that device is signed out at its next request.', 'info')
      await account()
    } catch (error) {
      await failed(error)
    }
  }
  section.append(h('ul', { class: 'list' }, ...sessions.map(session =>
    h('li', { class: 'row' },
      h('div', { class: 'grow' },
        h('strong', {}, describeAgent(session.userAgent)), session.current ? h('span', { class: 'badge' }, 'This device') : null,
        h('p', { class: 'hint' }, `${session.ip ?? 'unknown address'} · signed in ${when(session.createdAt)} · last active ${when(session.lastUsedAt)}`)),
      h('button', { class: 'button small secondary', onclick: revoke(session) }, session.current ? 'Sign out' : 'Revoke')))))
  return section
}

function describeAgent (userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return 'Unknown device'
  const browser = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[1]?.replace('Edg', 'Edge') ?? 'Browser'
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(userAgent)?.[1]?.replace('Mac OS X', 'macOS') ?? 'unknown system'
  return `${browser} on ${system}`
}

/** Linking routes are optional: offer a button only when the API documents the POST that starts one. */
async function canLink (): Promise<boolean> {
  try {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>('/docs/json')
    return doc.paths['/auth/{provider}/link']?.post !== undefined
  } catch {
    return false
  }
}

/** An action failed: a 401 means the session ended elsewhere (logout in another tab, revoked). */
async function failed (error: unknown) {
  notify(messageText(error))
  if (error instanceof ApiError && error.status === 401) await signedOut()
}

/**
 * Deleting the account, linking and unlinking need a recent sign-in (403 `reauthentication_required`):
 * offer a fresh login with one of the account's own providers, which comes back here to try again.
 */
function confirmBySigningIn (providers: Provider[], linked: Set<string>, retry: string) {
  const returnTo = `?returnTo=${encodeURIComponent(location.pathname)}`
  notify(describeError('reauthentication_required'), 'info')
  show(h('section', { class: 'card narrow', 'data-testid': 'reauthenticate' },
    h('h1', {}, 'Sign in again to confirm'),
    h('p', { class: 'lead' }, `Then press “${retry}” once more.`),
    h('div', { class: 'providers' }, ...providers.filter(provider => linked.has(provider.id)).map(provider =>
      h('a', { class: `button provider provider-${provider.id}`, href: provider.loginUrl + returnTo }, `Sign in again with ${provider.name}`))),
    h('button', { class: 'button secondary', onclick: () => { account().catch(failed) } }, 'Cancel')))
}

/** Runs an action that needs a recent sign-in; a sign-in too old for it leads to confirmBySigningIn. */
async function withRecentSignIn (run: () => Promise<void>, providers: Provider[], linked: Set<string>, retry: string): Promise<void> {
  try {
    await run()
  } catch (error) {
    if (error instanceof ApiError && error.code === 'reauthentication_required') return confirmBySigningIn(providers, linked, retry)
    throw error
  }
}

async function deleteAccount () {
  if (!confirm('Delete your account, its linked providers and every session? This cannot be undone.')) return
  await authed('/users/me', { method: 'DELETE' })
  notify('Your account was deleted.', 'info')
  await signedOut()
}

async function account () {
  let profile: Profile
  try {
    profile = (await authed<{ user: Profile }>('/users/me')).user
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      notify(describeError('refresh_token_invalid'), 'info')
      return signedOut()
    }
    throw error
  }
  const [sessions, link, providers] = await Promise.all([
    sessionsSection().catch(error => h('section', { class: 'card' }, h('h2', {}, 'Sessions'), banner(messageText(error)))),
    canLink(),
    api<{ providers: Provider[] }>('/auth/providers').then(body => body.providers, () => [])
  ])
  const linked = new Set(profile.identities.map(identity => identity.provider))
  const linkable = link ? providers.filter(provider => !linked.has(provider.id)) : []

  const action = (label: string, run: () => Promise<void>, style = 'secondary') =>
    h('button', { class: `button ${style}`, onclick: () => run().catch(failed) }, label)
  // Deleting, linking and unlinking: a stolen session must not be enough, so the server may ask for a fresh sign-in.
  const sensitive = (label: string, run: () => Promise<void>, style = 'secondary') =>
    action(label, () => withRecentSignIn(run, providers, linked, label), style)

  show(
    h('section', { class: 'card profile', 'data-testid': 'profile' },
      avatar(profile.avatarUrl, profile.nickname),
      h('div', { class: 'grow' },
        h('h1', { 'data-testid': 'nickname' }, profile.nickname),
        h('p', { class: 'lead' }, [profile.name, profile.email].filter(Boolean).join(' · ') || 'No name or verified email shared'),
        h('p', { class: 'hint' }, `Member since ${when(profile.createdAt)}`)),
      h('div', { class: 'actions' },
        action('Refresh session', async () => { await refresh(); notify('Session refreshed: new cookies, and the old refresh token no longer works.', 'info') }),
        action('Sign out', async () => { await logout(); notify('You are signed out.', 'info'); await signedOut() }, 'primary'))),
    h('section', { class: 'card' }, h('h2', {}, 'Linked providers'),
      h('ul', { class: 'list' }, ...profile.identities.map(identity =>
        h('li', { class: 'row' },
          h('span', { class: `dot provider-${identity.provider}`, 'aria-hidden': 'true' }),
          h('div', { class: 'grow' },
            h('strong', {}, providerNames[identity.provider] ?? identity.provider),
            identity.email === null ? null : h('span', { class: identity.emailVerified ? 'badge ok' : 'badge' }, identity.emailVerified ? `${identity.email} ✓` : `${identity.email} (unverified)`),
            h('p', { class: 'hint' }, `linked ${when(identity.linkedAt)} · last sign-in ${when(identity.lastLoginAt)}`)),
          profile.identities.length > 1
            ? sensitive('Unlink', async () => { await unlinkIdentity(identity.id); notify(`${providerNames[identity.provider] ?? identity.provider} unlinked.`, 'info'); await account() }, 'small secondary')
            : null))),
      linkable.length === 0
        ? null
        : h('div', { class: 'actions' }, ...linkable.map(provider =>
          sensitive(`Link ${provider.name}`, () => linkProvider(provider.id), `small provider provider-${provider.id}`)))),
    sessions,
    h('div', { class: 'actions end' },
      action('Sign out everywhere', async () => { await logout(true); notify('You are signed out on every device.', 'info'); await signedOut() }, 'danger'),
      sensitive('Delete account', deleteAccount, 'danger'))
  )
}

async function start () {
  try {
    const user: User | null = await currentUser()
    return user === null ? await signedOut() : await account()
  } catch (error) {
    notify(messageText(error))
    return signedOut()
  }
}

async function main () {
  if (handoff.error !== undefined) notify(describeError(handoff.error))
  if (handoff.linked !== undefined) notify(`${providerNames[handoff.linked] ?? handoff.linked} is linked: you can sign in with it too.`, 'info')
  if (handoff.code !== undefined) {
    try {
      const result = await exchange(handoff.code)
      if (result.status === 'signup_required') return signupForm(result.profile, handoff.returnTo)
      if (handoff.returnTo !== undefined) history.replaceState(null, '', handoff.returnTo)
    } catch (error) {
      notify(messageText(error))
    }
  }
  await start()
}

// The other tab may have signed out: check again when this one comes back into view.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && root.querySelector('[data-testid=profile]') !== null) start()
})

main()
