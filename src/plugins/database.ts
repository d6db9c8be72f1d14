import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { databaseTarget, openDatabase, waitForDatabase, type Database, type DatabaseTarget } from '../db/database.js'
import { migrate } from '../db/migrate.js'

declare module '../namespace.js' {
  interface HandoffNamespace {
    db: Pick<Database, 'sql' | 'prisma' | 'kind' | 'poolStats'>
  }
}

async function database (app: FastifyInstance, { config, target }: { config: Config, target?: DatabaseTarget }) {
  const db = await openDatabase(target ?? databaseTarget(config))
  app.addHook('onClose', async () => db.close())
  if (db.kind === 'postgres') {
    try {
      await waitForDatabase(db.sql, {
        timeoutSeconds: config.databaseConnectTimeoutSeconds,
        onRetry: (error, attempt) => app.log.warn({ attempt, err: error }, 'database not reachable yet: retrying')
      })
    } catch (error) {
      await db.close()
      throw error
    }
  }
  // The embedded database is ours alone: always migrate. A shared PostgreSQL server is migrated
  // explicitly (npm run db:migrate), or here when MIGRATE_ON_START=true.
  if (db.kind === 'pglite' || config.migrateOnStart) {
    const { applied } = await migrate(db.sql, { postgres: db.kind === 'postgres' })
    if (applied.length > 0) app.log.info({ applied }, 'database migrated')
  }
  app.handoff.db = { sql: db.sql, prisma: db.prisma, kind: db.kind, poolStats: db.poolStats }
}

export default fp(database, { name: 'database' })
