import { ApiError, api, authed, currentUser, exchange, linkProvider, logout, nicknameAvailability, refresh, signup, takeHandoff, unlinkIdentity, type SignupProfile, type User } from './auth.js'
import { language, loginLabel, providerName, text } from './i18n.js'
import { describeError, describeLoginError, loadMessages, messageText } from './messages.js'
import './style.css'

// First, before any other work: take the one-time code out of the address bar and history.
const handoff = takeHandoff()

// The page speaks the browser's language (Korean or English); the server's error messages follow
// Accept-Language, which the browser derives from the same preference.
document.documentElement.lang = language
document.title = text('title')
document.querySelector('.topbar nav a')?.replaceChildren(text('apiDocs'))
document.querySelector('.footer')?.replaceChildren(text('footer'))

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

function banner (message: string, kind: 'error' | 'info' = 'error', hint?: string) {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'message' },
    h('p', {}, message), hint === undefined ? null : h('p', { class: 'message-hint', 'data-testid': 'message-hint' }, hint))
}
let pending: HTMLElement | null = null
/** Shows a message above the next screen (or the current one). */
function notify (message: string, kind: 'error' | 'info' = 'error', hint?: string) {
  pending = banner(message, kind, hint)
  root.querySelector('.message')?.replaceWith(pending)
  if (!root.contains(pending)) root.prepend(pending)
}
function show (...nodes: Node[]) {
  root.replaceChildren(...(pending === null ? [] : [pending]), ...nodes)
  pending = null
}

const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' })
const when = (iso: string) => dateTime.format(new Date(iso))

function avatar (url: string | null, nickname: string, size = 'large') {
  const fallback = h('span', { class: `avatar ${size} initial`, 'aria-hidden': 'true' }, [...nickname][0]?.toUpperCase() ?? '?')
  if (url === null) return fallback
  const image = h('img', { class: `avatar ${size}`, src: url, alt: '', referrerpolicy: 'no-referrer' })
  image.addEventListener('error', () => image.replaceWith(fallback))
  return image
}

/** The sign-in screen; after a logout from a Kakao session, with Kakao's own logout (shared computers). */
async function signedOut (providerLogoutUrl: string | null = null) {
  let providers: Provider[] = []
  try {
    providers = (await api<{ providers: Provider[] }>('/auth/providers')).providers
  } catch (error) {
    notify(messageText(error))
  }
  const returnTo = location.pathname === '/' ? '' : `?returnTo=${encodeURIComponent(location.pathname)}`
  show(h('section', { class: 'card narrow' },
    h('h1', {}, text('signIn')),
    h('p', { class: 'lead' }, text('signInLead')),
    providerLogoutUrl === null
      ? null
      : h('p', { class: 'hint', 'data-testid': 'provider-logout' }, text('kakaoLogoutHint'), ' ',
        h('a', { class: 'button small secondary', href: providerLogoutUrl }, text('kakaoLogout'))),
    providers.length === 0
      ? h('p', { class: 'hint' }, text('noProvider'))
      : h('div', { class: 'providers' }, ...providers.map(provider => loginButton(provider, returnTo)))
  ))
}

/** A provider's login button: its design guide's colours and label for Kakao and Naver, neutral for the others. */
function loginButton (provider: Provider, query: string) {
  return h('a', { class: `button provider provider-${provider.id}`, href: provider.loginUrl + query, lang: language }, loginLabel(provider.id, provider.name))
}

function signupForm (profile: SignupProfile, returnTo: string | undefined) {
  const input = h('input', { id: 'nickname', name: 'nickname', autocomplete: 'username', required: true, maxlength: '40', value: profile.suggestedNickname, 'aria-describedby': 'nickname-status' })
  const status = h('p', { id: 'nickname-status', class: 'field-status', 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit', class: 'button' }, text('createAccount'))
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: AbortController | undefined

  // Live availability, debounced: one check 300 ms after the last keystroke, stale answers dropped.
  const check = () => {
    clearTimeout(timer)
    inFlight?.abort()
    const nickname = input.value
    status.className = 'field-status'
    status.textContent = nickname.trim() === '' ? '' : text('checking')
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
    h('label', { for: 'nickname' }, text('nickname')), input, status, submit)
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

  const via = providerName(profile.provider)
  show(h('section', { class: 'card narrow' },
    h('div', { class: 'welcome' }, avatar(profile.avatarUrl, profile.suggestedNickname),
      h('div', {}, h('h1', {}, profile.name === null ? text('welcome') : text('welcomeName', { name: profile.name })),
        h('p', { class: 'lead' }, profile.email === null ? text('signedInWith', { provider: via }) : text('signedInWithEmail', { provider: via, email: profile.email })))),
    form,
    h('p', { class: 'hint' }, text('nicknameRules'))))
  check()
  input.focus()
}

async function sessionsSection (): Promise<HTMLElement> {
  const section = h('section', { class: 'card', 'data-testid': 'sessions' }, h('h2', {}, text('sessions')))
  let sessions: Session[]
  try {
    const body = await authed<Session[] | { sessions: Session[] }>('/auth/sessions')
    sessions = Array.isArray(body) ? body : body.sessions
  } catch (error) {
    // The session list arrived after the first release: an older server answers 404.
    if (error instanceof ApiError && error.status === 404) {
      section.append(h('p', { class: 'hint' }, text('noSessionList')))
      return section
    }
    throw error
  }
  const revoke = (session: Session) => async () => {
    try {
      await authed(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' })
      if (session.current) {
        notify(text('deviceSignedOut'), 'info')
        return signedOut()
      }
      notify(text('sessionRevoked'), 'info')
      await account()
    } catch (error) {
      await failed(error)
    }
  }
  section.append(h('ul', { class: 'list' }, ...sessions.map(session =>
    h('li', { class: 'row' },
      h('div', { class: 'grow' },
        h('strong', {}, describeAgent(session.userAgent)), session.current ? h('span', { class: 'badge' }, text('thisDevice')) : null,
        h('p', { class: 'hint' }, text('sessionLine', { ip: session.ip ?? text('unknownAddress'), signedIn: when(session.createdAt), lastActive: when(session.lastUsedAt) }))),
      h('button', { class: 'button small secondary', onclick: revoke(session) }, session.current ? text('signOut') : text('revoke'))))))
  return section
}

function describeAgent (userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return text('unknownDevice')
  const browser = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[1]?.replace('Edg', 'Edge') ?? text('browser')
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(userAgent)?.[1]?.replace('Mac OS X', 'macOS') ?? text('unknownSystem')
  return text('agent', { browser, system })
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
    h('h1', {}, text('confirmTitle')),
    h('p', { class: 'lead' }, text('confirmLead', { action: retry })),
    h('div', { class: 'providers' }, ...providers.filter(provider => linked.has(provider.id)).map(provider => loginButton(provider, returnTo))),
    h('button', { class: 'button secondary', onclick: () => { account().catch(failed) } }, text('cancel'))))
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
  if (!confirm(text('deleteConfirm'))) return
  await authed('/users/me', { method: 'DELETE' })
  notify(text('accountDeleted'), 'info')
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
    sessionsSection().catch(error => h('section', { class: 'card' }, h('h2', {}, text('sessions')), banner(messageText(error)))),
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
        h('p', { class: 'lead' }, [profile.name, profile.email].filter(Boolean).join(' · ') || text('noNameOrEmail')),
        h('p', { class: 'hint' }, text('memberSince', { date: when(profile.createdAt) }))),
      h('div', { class: 'actions' },
        action(text('refreshSession'), async () => { await refresh(); notify(text('sessionRefreshed'), 'info') }),
        action(text('signOut'), async () => { const providerLogout = await logout(); notify(text('signedOut'), 'info'); await signedOut(providerLogout) }, 'primary'))),
    h('section', { class: 'card' }, h('h2', {}, text('linkedProviders')),
      h('ul', { class: 'list' }, ...profile.identities.map(identity =>
        h('li', { class: 'row' },
          h('span', { class: `dot provider-${identity.provider}`, 'aria-hidden': 'true' }),
          h('div', { class: 'grow' },
            h('strong', {}, providerName(identity.provider)),
            identity.email === null ? null : h('span', { class: identity.emailVerified ? 'badge ok' : 'badge' }, identity.emailVerified ? `${identity.email} ✓` : text('unverified', { email: identity.email })),
            h('p', { class: 'hint' }, text('identityLine', { linked: when(identity.linkedAt), lastLogin: when(identity.lastLoginAt) }))),
          profile.identities.length > 1
            ? sensitive(text('unlink'), async () => { await unlinkIdentity(identity.id); notify(text('unlinked', { provider: providerName(identity.provider) }), 'info'); await account() }, 'small secondary')
            : null))),
      linkable.length === 0
        ? null
        // Neutral: the providers' guides give their colours to login buttons, with their own labels.
        : h('div', { class: 'actions' }, ...linkable.map(provider =>
          sensitive(text('link', { provider: providerName(provider.id, provider.name) }), () => linkProvider(provider.id), 'small secondary')))),
    sessions,
    h('div', { class: 'actions end' },
      action(text('signOutEverywhere'), async () => { const providerLogout = await logout(true); notify(text('signedOutEverywhere'), 'info'); await signedOut(providerLogout) }, 'danger'),
      sensitive(text('deleteAccount'), deleteAccount, 'danger'))
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
  await loadMessages()
  if (handoff.error !== undefined) {
    const { message, hint } = describeLoginError(handoff)
    notify(message, 'error', hint)
  }
  if (handoff.linked !== undefined) notify(text('linked', { provider: providerName(handoff.linked) }), 'info')
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
