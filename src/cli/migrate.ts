import { loadConfig } from '../config.js'
import { databaseTarget, openDatabase, waitForDatabase } from '../db/database.js'
import { migrate } from '../db/migrate.js'
import { describeDatabase } from './describe.js'
import { oneLine } from './one-line.js'

// `handoff migrate` (`npm run db:migrate` in a clone): apply pending migrations to DATABASE_URL (or
// the embedded database in DATA_DIR) from the compiled package, without the Prisma CLI.

export async function migrateCommand (): Promise<void> {
  const config = loadConfig(process.env, { dotenv: true })
  const where = describeDatabase(config)
  const db = await openDatabase(databaseTarget(config))
  try {
    // Run beside a PostgreSQL container that is still starting, it waits as the server does.
    if (db.kind === 'postgres') await waitForDatabase(db.sql, { timeoutSeconds: config.databaseConnectTimeoutSeconds, onRetry: () => {} })
    const { applied } = await migrate(db.sql, { postgres: db.kind === 'postgres' })
    console.log(`handoff: ${where}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}`)
  } catch (error) {
    throw new Error(`migrating ${where} failed: ${oneLine(error)}`)
  } finally {
    await db.close()
  }
}
