import { buildNotesApp } from './app.js'

// `npx tsx examples/own-routes/server.ts`: handoff reads its settings from the environment, as `npm start` does.
const app = await buildNotesApp()
await app.listen({ host: app.handoff.config.host, port: app.handoff.config.port })
