import type { Config } from '../config.js'

/**
 * The frontend URL for the end of a browser step: the one-time code (or an error code) in the
 * fragment by default, which never reaches a server, a log or a Referer; in the query string when
 * HANDOFF_CODE_IN=query. Never a token.
 */
export function frontendRedirectUrl (config: Pick<Config, 'frontendUrl' | 'handoffCodeIn'>, params: Record<string, string | undefined>): string {
  const url = new URL(config.frontendUrl)
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)
  if (config.handoffCodeIn === 'query') {
    for (const [key, value] of entries) url.searchParams.set(key, value)
  } else {
    url.hash = new URLSearchParams(entries).toString()
  }
  return url.toString()
}

/**
 * Keeps `returnTo` only if it resolves to the frontend's origin, and returns it as a path.
 * `//evil.example`, `https://evil.example`, `/\evil.example` and `javascript:` all resolve elsewhere
 * (or to another scheme) and are dropped. So is a path that only becomes `//evil.example` once
 * resolved (`/.//evil.example`, `/a/..//evil.example`): the frontend hands it to `location`, which
 * reads a leading `//` as another host.
 */
export function safeReturnTo (returnTo: string | undefined, frontendOrigin: string): string | undefined {
  // Control characters and backslashes are dropped by URL parsers in ways browsers and we may not agree on.
  // eslint-disable-next-line no-control-regex
  if (returnTo === undefined || returnTo === '' || /[\u0000-\u001f\\]/.test(returnTo)) return undefined
  let url: URL
  try {
    url = new URL(returnTo, frontendOrigin)
  } catch {
    return undefined
  }
  if (url.origin !== frontendOrigin) return undefined
  const path = url.pathname + url.search + url.hash
  // Encoded too: a router that decodes the path before navigating would read `/%2F%2Fevil.example` as `//evil.example`.
  return /^\/(?:[/\\]|%2f|%5c)/i.test(path) ? undefined : path
}
