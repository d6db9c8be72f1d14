import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { migrationsDir } from '../paths.js'
import type { Sql } from './database.js'

// Applies prisma/migrations in order, recording them in Prisma's own `_prisma_migrations` table with
// Prisma's checksum (sha256 of the file), so `prisma migrate status` agrees with us. We run this
// ourselves because `prisma migrate deploy` through @prisma/adapter-pg fails on PostgreSQL's `name`
// type (prisma/prisma#27403) and the CLI's native engine cannot be downloaded everywhere; and the
// embedded database must migrate in-process, where the CLI cannot open it.

// Serializes instances that start together on one PostgreSQL database.
const MIGRATION_LOCK_KEY = 7_297_114_033

const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

interface MigrationResult { applied: string[] }

const migrationNames = async (dir: string): Promise<string[]> => (await readdir(dir, { withFileTypes: true }))
  .filter(entry => entry.isDirectory()).map(entry => entry.name).sort()

export async function migrate (sql: Sql, options: { postgres: boolean, dir?: string }): Promise<MigrationResult> {
  const dir = options.dir ?? migrationsDir
  const names = await migrationNames(dir)

  return sql.transaction(async tx => {
    if (options.postgres) await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.exec(CREATE_HISTORY_TABLE)
    const done = new Set((await tx.query<{ migration_name: string }>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL'
    )).map(row => row.migration_name))

    const applied: string[] = []
    for (const name of names) {
      if (done.has(name)) continue
      const script = await readFile(`${dir}/${name}/migration.sql`, 'utf8')
      await tx.exec(script)
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), createHash('sha256').update(script).digest('hex'), name]
      )
      applied.push(name)
    }
    return { applied }
  })
}

/** How many of the package's migrations the database has, and which it lacks; changes nothing (`handoff check`). */
export async function migrationStatus (sql: Sql, dir = migrationsDir): Promise<{ applied: number, pending: string[] }> {
  const names = await migrationNames(dir)
  const [{ present }] = await sql.query<{ present: boolean }>('SELECT to_regclass(\'"_prisma_migrations"\') IS NOT NULL AS present')
  const done = new Set(present
    ? (await sql.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')).map(row => row.migration_name)
    : [])
  return { applied: names.filter(name => done.has(name)).length, pending: names.filter(name => !done.has(name)) }
}
