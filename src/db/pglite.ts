import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import type { PGlite } from '@electric-sql/pglite'
import { seedFile } from '../paths.js'

/**
 * PostgreSQL settings for the embedded database. PGlite keeps PostgreSQL's server defaults
 * (shared_buffers 128 MB), all inside our process's WebAssembly memory: 370 MB resident before the
 * first query. 16 MB of buffers still hold an app's tables and indexes many times over (the rest is
 * in the OS page cache) and cut that to about 220 MB and the open time by half (docs/performance.md).
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB', '-c', 'temp_buffers=1MB']

const isEmptyOrMissing = async (dir: string): Promise<boolean> =>
  (await readdir(dir).catch(() => [])).length === 0

// Runs node-tar in a worker thread: unpacking 40 MB in a thousand files is ~0.7 s of CPU, which then
// runs on another core while the main thread loads the app. The worker is evaluated code, not a
// module file, so that it also works from the bundled server; it loads node-tar by the path this
// module resolves.
const UNPACK = `const { workerData: { tar, file, cwd } } = require('node:worker_threads')
require(tar).extract({ file, cwd, sync: true, noMtime: true })` // PostgreSQL does not read mtimes

async function unpackInWorker (file: string, cwd: string): Promise<void> {
  const worker = new Worker(UNPACK, { eval: true, workerData: { tar: createRequire(import.meta.url).resolve('tar'), file, cwd } })
  const [code] = await once(worker, 'exit') as [number]
  if (code !== 0) throw new Error(`unpacking the seed failed (worker exit code ${code})`)
}

/**
 * A new embedded database starts as a copy of the seed: initialised and migrated when the package
 * was installed. PGlite's initdb runs in WebAssembly: about 4.5 s and 800 MB of memory on every
 * first start without it.
 *
 * Unpacks the seed into `dataDir` (missing or empty): into a sibling directory first, renamed into
 * place once complete, so a start killed halfway never leaves a half-written database. node-tar
 * writes the files straight to disk (PGlite's own loader goes through its virtual file system, and
 * was slower). False when there is no seed or it is not a database.
 */
async function copySeed (seed: string, dataDir: string): Promise<boolean> {
  if (!existsSync(seed)) return false
  const partial = `${dataDir}.partial-${process.pid}`
  await mkdir(partial, { recursive: true })
  try {
    await unpackInWorker(seed, partial)
    if (!existsSync(path.join(partial, 'PG_VERSION'))) return false
    await rm(dataDir, { recursive: true, force: true }) // empty or missing: checked by the caller
    await rename(partial, dataDir)
    return true
  } catch {
    return false
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
}

/** Unpacks the seed into `dataDir` if it is missing or empty; false when it was not, or did not unpack. */
async function seedIfEmpty (dataDir: string, seed: string): Promise<boolean> {
  await mkdir(path.dirname(dataDir), { recursive: true })
  return await isEmptyOrMissing(dataDir) && await copySeed(seed, dataDir)
}

/**
 * Opens an embedded database, in memory or in `dataDir`. A missing or empty `dataDir` starts from
 * the seed when there is one (from initdb when there is none, or when the seed does not open).
 * PGlite is imported here, on first use, so a server on PostgreSQL never loads it (about 45 MB).
 */
export async function createPglite (dataDir?: string, options: { loadDataDir?: Blob, seed?: string } = {}): Promise<PGlite> {
  // Loaded on the main thread while a worker unpacks the seed.
  const loading = import('@electric-sql/pglite')
  loading.catch(() => {}) // awaited below, after steps that may throw first
  const seeded = dataDir !== undefined && options.loadDataDir === undefined && await seedIfEmpty(dataDir, options.seed ?? seedFile)
  const { PGlite } = await loading
  const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS]
  if (seeded) {
    try {
      return await PGlite.create(dataDir, { startParams })
    } catch {
      // A seed from another PGlite version: start over with initdb.
      await rm(dataDir as string, { recursive: true, force: true })
    }
  }
  return PGlite.create(dataDir, { loadDataDir: options.loadDataDir, startParams })
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
