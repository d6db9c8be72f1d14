import { openDatabase } from '../db/database.js'
import { migrate } from '../db/migrate.js'
import { writeSeed } from '../db/pglite.js'
import { seedFile } from '../paths.js'

// `npm run db:seed` (run by `npm install` and `npm pack` in a clone, as `prepare`): the initialised, migrated database every
// new embedded database starts from (src/db/pglite.ts).

const started = performance.now()
try {
  await writeSeed(async instance => {
    const db = await openDatabase({ kind: 'pglite', instance })
    await migrate(db.sql, { postgres: false })
    await db.close()
  })
  console.log(`handoff: wrote the embedded database's seed, ${seedFile} (${Math.round(performance.now() - started)} ms)`)
} catch (error) {
  // Not fatal: without a seed, a first start runs initdb instead (slower, same result).
  console.warn(`handoff: could not write the embedded database's seed: ${(error as Error).message}`)
}
