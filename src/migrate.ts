import { ConfigError, loadConfig } from './config.js'
import { databaseTarget, openDatabase } from './db/database.js'
import { migrate } from './db/migrate.js'

// `npm run db:migrate`: apply pending migrations to DATABASE_URL (or the embedded database).

try {
  const config = loadConfig(process.env, { dotenv: true })
  const db = await openDatabase(databaseTarget(config))
  try {
    const { applied } = await migrate(db.sql, { postgres: db.kind === 'postgres' })
    console.log(applied.length === 0 ? 'handoff: the database is up to date' : `handoff: applied ${applied.join(', ')}`)
  } finally {
    await db.close()
  }
} catch (error) {
  console.error(`handoff: ${error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`}`)
  process.exitCode = 1
}
