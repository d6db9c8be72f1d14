// Reads the one form of a page the way a browser submits it: its action (resolved against the page's
// URL) and its hidden inputs. Enough for the provider pages and relay pages of the tests, which hold
// exactly one form of hidden inputs.

const decodeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
  .replace(/&quot;/g, '"').replace(/&#x27;|&apos;/g, '\'').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

export interface HtmlForm { method: string, action: URL, fields: URLSearchParams }

export function parseHtmlForm (html: string, pageUrl: string): HtmlForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (form === null) return undefined
  const attribute = (tag: string, name: string) => {
    const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)
    return match === null ? undefined : decodeHtml(match[1])
  }
  const fields = new URLSearchParams()
  for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(input, 'name')
    if (name !== undefined) fields.append(name, attribute(input, 'value') ?? '')
  }
  return { method: (attribute(form[1], 'method') ?? 'get').toLowerCase(), action: new URL(attribute(form[1], 'action') ?? '', pageUrl), fields }
}
