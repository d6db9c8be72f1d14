import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'

// A form_post provider (Apple) sends the browser back with a top-level POST from its own site. Browsers
// send SameSite=Lax cookies with a cross-site navigation only when it is a GET, so that POST arrives
// without the login's state cookie, and the state check, rightly, fails. We answer it with this page,
// which posts the same fields once more to the same URL from our own origin: a same-site POST, which
// carries the Lax cookies, and the callback checks the state as for any provider. Nothing is weakened:
// the login cookies stay SameSite=Lax and `__Host-` over https, and the relayed POST is checked like the
// first (a forged form without this browser's state fails the same way). It works over plain http too,
// where a SameSite=None cookie, needing Secure, would not (docs/security.md, row 41).

/** The field the relayed form adds, so the second POST is not relayed again. */
export const RELAY_FIELD = 'handoff_relay'

const SUBMIT_SCRIPT = 'document.forms[0].submit()'
/** The page's only script, allowed by its hash: the rest of the CSP stays as strict as everywhere. */
const SCRIPT_HASH = `'sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}'`
const CSP = `default-src 'none'; script-src ${SCRIPT_HASH}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

/** Whether this POST is the relayed one (it came from our page, not from the provider's). */
export const isRelayed = (fields: Record<string, unknown>): boolean => fields[RELAY_FIELD] === '1'

/**
 * Answers with the page that posts `fields` (the provider's, as received: code, state, user…) to
 * `action` from this origin. No-store (the page holds the provider's code), no Referer, no framing.
 */
export function sendFormPostRelay (reply: FastifyReply, action: string, fields: Record<string, string>): FastifyReply {
  const inputs = Object.entries({ ...fields, [RELAY_FIELD]: '1' })
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('')
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Signing in…</title></head>
<body><form method="post" action="${escapeHtml(action)}">${inputs}<noscript><p>Press Continue to finish signing in.</p><button type="submit">Continue</button></noscript></form>
<script>${SUBMIT_SCRIPT}</script></body></html>`
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('referrer-policy', 'no-referrer')
    .send(page)
}
