// Where a native app's system-browser login may end (RFC 8252, OAuth 2.0 for Native Apps). The app
// opens GET /auth/:provider/login?redirect_uri=… in the system browser; the callback sends the
// one-time code to that URI, so only the URIs the operator listed in NATIVE_REDIRECT_URIS may be
// named, each compared exactly. The code is PKCE-bound (the login must carry code_challenge): another
// app that registered the same scheme and caught the redirect holds a code it cannot redeem (§8.1).

/** One entry of NATIVE_REDIRECT_URIS, normalized by the URL parser. */
export interface NativeRedirectUri {
  uri: string
  /** `http://127.0.0.1/…` or `http://[::1]/…`: matches on any port (RFC 8252 §7.3). */
  loopback: boolean
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]'])

const parse = (text: string): URL | undefined => {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

/** Why an entry cannot be a native redirect target, or undefined when it can. */
function entryProblem (entry: string, url: URL | undefined): string | undefined {
  if (url === undefined) return `"${entry}" is not an absolute URI`
  if (entry.includes('#')) return `"${entry}": a redirect URI has no fragment`
  if (url.username !== '' || url.password !== '') return `"${entry}": no user name or password in a redirect URI`
  const scheme = url.protocol.slice(0, -1)
  if (scheme === 'https') return url.hostname === '' ? `"${entry}" has no host` : undefined
  if (scheme === 'http') {
    if (url.hostname === 'localhost') return `"${entry}": use http://127.0.0.1 or http://[::1], not localhost, which may resolve elsewhere (RFC 8252 §8.3)`
    if (!LOOPBACK_HOSTS.has(url.hostname)) return `"${entry}": plain http is only for the loopback interface (http://127.0.0.1/… or http://[::1]/…, RFC 8252 §7.3); use https or a private-use scheme`
    if (url.port !== '') return `"${entry}": leave the port out, a loopback redirect matches any port (RFC 8252 §7.3)`
    return undefined
  }
  // RFC 8252 §7.1: a reverse domain name the app's publisher controls, which also keeps javascript:,
  // data:, file: and the like out.
  if (!scheme.includes('.')) return `"${entry}": a private-use scheme must be a reverse domain name you control, like com.example.app:/oauth (RFC 8252 §7.1)`
  return undefined
}

/** NATIVE_REDIRECT_URIS (comma-separated) parsed, or the problem with its first bad entry. */
export function parseNativeRedirectUris (value: string): { uris: NativeRedirectUri[] } | { problem: string } {
  const uris: NativeRedirectUri[] = []
  for (const entry of value.split(',').map(item => item.trim()).filter(Boolean)) {
    const url = parse(entry)
    const problem = entryProblem(entry, url)
    if (problem !== undefined || url === undefined) return { problem: problem ?? `"${entry}" is not an absolute URI` }
    uris.push({ uri: url.href, loopback: url.protocol === 'http:' })
  }
  return { uris }
}

/**
 * The listed URI a login's `redirect_uri` names, normalized (with its port, for a loopback one), or
 * undefined when it names none: exact match, except the port of a loopback redirect.
 */
export function matchNativeRedirect (allowed: readonly NativeRedirectUri[], candidate: string): string | undefined {
  if (candidate.includes('#')) return undefined
  const url = parse(candidate)
  if (url === undefined || url.username !== '' || url.password !== '') return undefined
  for (const entry of allowed) {
    if (!entry.loopback) {
      if (url.href === entry.uri) return url.href
      continue
    }
    const listed = new URL(entry.uri)
    if (url.protocol === 'http:' && url.hostname === listed.hostname && url.pathname === listed.pathname && url.search === listed.search) return url.href
  }
  return undefined
}

/**
 * The app's redirect with our parameters (the one-time code or an error, and the app's own state) in
 * the query: a loopback listener never sees a fragment, and RFC 6749 returns codes in the query.
 */
export function nativeRedirectUrl (redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value)
  return url.toString()
}
