import { readdir, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'

/**
 * PostgreSQL settings for the embedded database. PGlite keeps PostgreSQL's server defaults
 * (shared_buffers 128 MB), all inside our process's WebAssembly memory: 370 MB resident before the
 * first query. 16 MB of buffers still hold an app's tables and indexes many times over (the rest is
 * in the OS page cache) and cut that to about 220 MB and the open time by half (docs/performance.md).
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB', '-c', 'temp_buffers=1MB']

/**
 * A new embedded database starts as a copy of this one: initialised and migrated when the package
 * was installed (`npm run db:seed`, run by `npm install` and `npm pack`). PGlite's initdb runs in
 * WebAssembly: about 4.5 s and 800 MB of memory on every first start without it.
 */
export const seedFile = fileURLToPath(new URL('../../prisma/pglite-seed.tar.gz', import.meta.url))

const isEmptyOrMissing = async (dir: string): Promise<boolean> =>
  (await readdir(dir).catch(() => [])).length === 0

const readSeed = async (file: string): Promise<Blob | undefined> =>
  readFile(file).then(bytes => new Blob([bytes]), () => undefined)

/**
 * Opens an embedded database, in memory or in `dataDir`. A missing or empty `dataDir` starts from
 * the seed when there is one (from initdb when there is none, or when the seed does not load).
 * PGlite is imported here, on first use, so a server on PostgreSQL never loads it (about 45 MB).
 */
export async function createPglite (dataDir?: string, options: { loadDataDir?: Blob, seed?: string } = {}): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite')
  const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS]
  if (dataDir === undefined || options.loadDataDir !== undefined) return PGlite.create(dataDir, { loadDataDir: options.loadDataDir, startParams })
  const seed = await isEmptyOrMissing(dataDir) ? await readSeed(options.seed ?? seedFile) : undefined
  await mkdir(dataDir, { recursive: true })
  if (seed !== undefined) {
    try {
      return await PGlite.create(dataDir, { loadDataDir: seed, startParams })
    } catch {
      // A seed from another PGlite version: start over with initdb in the (new) directory.
      await rm(dataDir, { recursive: true, force: true })
      await mkdir(dataDir, { recursive: true })
    }
  }
  return PGlite.create(dataDir, { startParams })
}

/** Writes the seed: a fresh database with every migration applied, as a gzipped tarball. */
export async function writeSeed (migrate: (db: PGlite) => Promise<void>, file = seedFile): Promise<void> {
  const db = await createPglite()
  try {
    await migrate(db)
    const tarball = await db.dumpDataDir('gzip')
    const partial = `${file}.${process.pid}`
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(partial, Buffer.from(await tarball.arrayBuffer()))
    await rename(partial, file)
  } finally {
    await db.close()
  }
}
