// Prisma CLI setup that works offline: the JS engine with a driver adapter, no native engine download.
// DATABASE_URL set: the CLI migrates that PostgreSQL server. Unset: the embedded PGlite under DATA_DIR.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { defineConfig } from 'prisma/config'

if (existsSync('.env')) process.loadEnvFile('.env')
const databaseUrl = process.env.DATABASE_URL
// The schema's datasource reads DATABASE_URL; without it the CLI would try to download a native engine.
process.env.DATABASE_URL ??= 'postgresql://unused@localhost/unused'

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  experimental: { adapter: true },
  engine: 'js',
  async adapter () {
    const { PrismaPg } = await import('@prisma/adapter-pg')
    if (databaseUrl) return new PrismaPg({ connectionString: databaseUrl })
    const { PGlite } = await import('@electric-sql/pglite')
    const { PrismaPGlite } = await import('pglite-prisma-adapter')
    const dataDir = path.resolve(process.env.DATA_DIR ?? 'data')
    mkdirSync(dataDir, { recursive: true })
    // pglite-prisma-adapter is typed against an older @prisma/driver-adapter-utils; same runtime contract.
    return new PrismaPGlite(new PGlite(path.join(dataDir, 'pglite'))) as unknown as InstanceType<typeof PrismaPg>
  }
})
