import { fileURLToPath } from 'node:url'

// Files the server reads from the package itself. Every path is resolved here, one level below the
// package root, which holds for src/ (tsx), dist/ (tsc) and the bundle `handoff` runs (dist/cli.js,
// dist/server.js and their dist/shared-*.js chunks): a module deeper in the tree, src/cli/ among
// them, would resolve differently once bundled.

const fromRoot = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url))

/** The migration history (Prisma's layout), applied at start. */
export const migrationsDir = fromRoot('prisma/migrations/')

/** The embedded database's seed, written at install (`npm run db:seed`). */
export const seedFile = fromRoot('prisma/pglite-seed.tar.gz')

/** The demo SPA (examples/spa, built by `npm run build:spa`), served at `/` with DEMO_APP=true. */
export const demoRoot = fromRoot('examples/spa/dist/')

/** The package's own manifest: `handoff --version` and the start line read its version. */
export const packageJsonFile = fromRoot('package.json')
