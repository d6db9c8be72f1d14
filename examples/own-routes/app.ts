import Fastify from 'fastify'
// In your project: import handoff, { type HandoffOptions } from 'handoff'
import handoff, { type HandoffOptions } from '../../src/index.js'

// Your own API beside handoff's routes: a table of your own that points at handoff's users, a row
// created with each account, and a route that needs a signed-in user.

export async function buildNotesApp (options: HandoffOptions = {}) {
  const settings = options.settings ?? process.env
  // pluginTimeout: the embedded database's first start (initdb) can outlast Fastify's default 10 s.
  const app = Fastify({ logger: { level: settings.LOG_LEVEL ?? 'info' }, pluginTimeout: 120_000 })

  await app.register(handoff, {
    ...options,
    settings,
    hooks: {
      // Runs inside the signup transaction: if this insert fails, the account is not created either.
      async onUserCreated ({ user, sql }) {
        await sql.query('INSERT INTO notes (user_id, text) VALUES ($1, $2)', [user.id, `Welcome, ${user.nickname}!`])
      },
      onLogin ({ user, method, request }) {
        request.log.info({ userId: user.id, method }, 'signed in')
      }
    }
  })
  // Your own schema, migrated however you migrate (here: at start, idempotently).
  await app.handoff.db.sql.exec(`CREATE TABLE IF NOT EXISTS notes (
    id serial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text text NOT NULL)`)

  // authenticate: the access cookie alone (no query); authenticateSession also refuses a revoked session.
  app.get('/api/notes', { preHandler: app.authenticate }, async request => {
    const notes = await app.handoff.db.sql.query<{ text: string }>('SELECT text FROM notes WHERE user_id = $1 ORDER BY id', [request.user.id])
    return { owner: request.user.nickname, notes: notes.map(note => note.text) }
  })

  return app
}
