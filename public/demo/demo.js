// The frontend's whole part of the handoff, in plain JavaScript.
const api = (path, options = {}) => fetch(path, {
  credentials: 'include',
  ...options,
  headers: { 'X-Requested-With': 'fetch', ...(options.body ? { 'Content-Type': 'application/json' } : {}), ...options.headers }
})

// 1. Read the one-time code (or error) from the fragment, then erase it from the address bar and
//    history before anything else can see it.
const handoff = new URLSearchParams(location.hash.slice(1) || location.search)
if (handoff.has('code') || handoff.has('error')) history.replaceState(null, '', location.pathname)

const $ = id => document.getElementById(id)
const show = (text, kind = 'error') => { $('message').textContent = text; $('message').className = `message ${kind}`; $('message').hidden = false }

const errors = {
  access_denied: 'You cancelled the sign-in on the provider\'s page.',
  invalid_state: 'That sign-in did not start in this browser (or took too long). Please try again.',
  provider_timeout: 'The provider did not answer in time. Please try again.',
  login_code_invalid: 'That sign-in link was already used or has expired. Please sign in again.'
}

// 2. Trade the code for HttpOnly session cookies.
async function exchange (code) {
  const response = await api('/auth/exchange', { method: 'POST', body: JSON.stringify({ code }) })
  const body = await response.json()
  if (!response.ok) throw new Error(errors[body.code] ?? body.message)
  return body
}

// 3. Ask who is signed in; on 401, refresh once and ask again.
async function currentUser () {
  let response = await api('/auth/me')
  if (response.status === 401 && (await api('/auth/refresh', { method: 'POST' })).ok) response = await api('/auth/me')
  return response.ok ? (await response.json()).user : null
}

function render (user) {
  $('signed-in').hidden = !user
  $('signed-out').hidden = !!user
  if (!user) return
  $('nickname').textContent = user.nickname
  $('user-id').textContent = user.id
  $('avatar').src = user.avatarUrl ?? 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>'
}

async function renderProviders () {
  const { providers } = await (await api('/auth/providers')).json()
  $('no-providers').hidden = providers.length > 0
  $('providers').replaceChildren(...providers.map(provider => {
    const link = document.createElement('a')
    link.href = provider.loginUrl
    link.className = `button provider-${provider.id}`
    link.textContent = `Continue with ${provider.name}`
    return link
  }))
}

$('refresh').addEventListener('click', async () => {
  const response = await api('/auth/refresh', { method: 'POST' })
  if (response.ok) show('Session refreshed: new cookies, the old refresh token is dead.', 'info')
  else render(null)
})
$('logout').addEventListener('click', async () => {
  await api('/auth/logout', { method: 'POST' })
  render(null)
  show('Signed out.', 'info')
})

try {
  if (handoff.has('error')) show(errors[handoff.get('error')] ?? `Sign-in failed (${handoff.get('error')}).`)
  if (handoff.has('code')) await exchange(handoff.get('code'))
} catch (error) {
  show(error.message)
}
await renderProviders()
render(await currentUser())
