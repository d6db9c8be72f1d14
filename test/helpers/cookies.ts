import { CookieJar } from 'tough-cookie'
import type { LightMyRequestResponse } from 'fastify'

/** A browser's cookie jar for inject(): stores Set-Cookie per URL and sends back what applies. */
export class Browser {
  readonly jar = new CookieJar()
  constructor (readonly origin: string) {}

  async store (url: string, response: LightMyRequestResponse | Response): Promise<void> {
    const header = response instanceof Response ? response.headers.getSetCookie() : response.headers['set-cookie']
    const list = header === undefined ? [] : Array.isArray(header) ? header : [header]
    for (const cookie of list) await this.jar.setCookie(cookie, new URL(url, this.origin).toString())
  }

  /**
   * The Cookie header for a request to `url`. `sameSite`: 'none' for a cross-site request that is not
   * a top-level GET (a form POSTed from another site): only SameSite=None cookies go with it.
   */
  async cookieHeader (url: string, sameSite?: 'none'): Promise<string> {
    return this.jar.getCookieString(new URL(url, this.origin).toString(), sameSite === undefined ? {} : { sameSiteContext: sameSite })
  }

  async cookie (name: string, url = '/'): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(new URL(url, this.origin).toString())
    return cookies.find(cookie => cookie.key === name)?.value
  }
}

/** Parses Set-Cookie headers into name → attributes, for flag assertions. */
export function parseSetCookies (response: LightMyRequestResponse): Map<string, { value: string, attributes: Map<string, string> }> {
  const header = response.headers['set-cookie']
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header]
  const cookies = new Map<string, { value: string, attributes: Map<string, string> }>()
  for (const line of list) {
    const [pair, ...rest] = line.split(';').map(part => part.trim())
    const separator = pair.indexOf('=')
    const attributes = new Map(rest.map(part => {
      const [key, ...value] = part.split('=')
      return [key.toLowerCase(), value.join('=')] as [string, string]
    }))
    cookies.set(pair.slice(0, separator), { value: pair.slice(separator + 1), attributes })
  }
  return cookies
}
