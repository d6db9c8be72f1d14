import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

// `npm run build`, after tsc: the command line (src/cli/main.ts, the bin's `dist/cli.js`) and the
// standalone server it starts (src/server.ts, `dist/server.js`, replacing tsc's) as ES modules that
// share their code in `dist/shared-*.js` chunks. Node loads ~1,100 files for the unbundled server and
// spends about 0.6 s of its 1.9 s start on finding, reading and compiling them; bundled, a handful
// (docs/performance.md). The chunks sit beside the entries, one level below the package root, where
// src/paths.ts expects its module. The library (dist/index.js) stays tsc's output: a host app
// bundles it as it likes.

/**
 * Packages left to Node: those that find their own files from their module's location (PGlite's
 * WebAssembly, Swagger UI's assets, the package.json that @fastify/swagger and ioredis read, Prisma's
 * query compiler), pino (its transports load files by path in worker threads), pino-pretty (optional:
 * absent after `--omit=optional`) and pg's optional native binding, which is not installed.
 */
const external = ['@electric-sql/pglite', '@fastify/swagger', '@fastify/swagger-ui', '@prisma/client', 'ioredis', 'pino', 'pino-pretty', 'pg-native']

const root = new URL('../', import.meta.url)
const CHUNK_PREFIX = 'shared-'

export async function bundleServer (outdir = fileURLToPath(new URL('dist/', root))): Promise<void> {
  // Chunks are named by their content: drop an earlier build's, which nothing imports any more.
  for (const file of await readdir(outdir).catch(() => [])) {
    if (file.startsWith(CHUNK_PREFIX)) await rm(path.join(outdir, file))
  }
  await build({
    entryPoints: { cli: fileURLToPath(new URL('src/cli/main.ts', root)), server: fileURLToPath(new URL('src/server.ts', root)) },
    outdir,
    splitting: true,
    chunkNames: `${CHUNK_PREFIX}[hash]`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The CommonJS packages inside call require(): give each module one.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    external: external.flatMap(name => [name, `${name}/*`]),
    logLevel: 'warning'
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleServer(process.argv[2])
