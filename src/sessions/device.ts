import { generateSecret, SECRET_PATTERN } from '../secrets.js'

// A browser is named by the secret in its HttpOnly device cookie; a session stores its hash and
// honours the refresh grace window for that browser alone (src/sessions/store.ts).

const WELL_FORMED = new RegExp(SECRET_PATTERN)

/**
 * The device secret for a session opened now: the browser's own, when its cookie holds one we could
 * have issued (so all sessions of one browser share it), else a new one.
 */
export const browserDevice = (presented: string | undefined): string =>
  presented !== undefined && WELL_FORMED.test(presented) ? presented : generateSecret()
