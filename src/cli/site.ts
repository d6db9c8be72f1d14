import { parse } from 'tldts'

// Browsers send SameSite=Lax cookies, and keep third-party-cookie blocking (Safari, Firefox) away
// from them, only between origins of one "site": the scheme plus the registrable domain, read from
// the Public Suffix List (https://html.spec.whatwg.org/multipage/browsers.html#sites). Its private
// section counts: myapp.vercel.app and auth.vercel.app are two sites.

/** The site of an origin: scheme and registrable domain, or the host itself for an IP address or `localhost`. */
export function siteOf (origin: string): string {
  const { protocol, hostname } = new URL(origin)
  const { domain, isIp } = parse(hostname, { allowPrivateDomains: true })
  return `${protocol}//${isIp === true || domain === null ? hostname : domain}`
}

/** The origins among `origins` that are cross-site to `publicUrl`. */
export const crossSiteOrigins = (publicUrl: string, origins: string[]): string[] =>
  origins.filter(origin => siteOf(origin) !== siteOf(publicUrl))
