import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

// `npm run build`, after tsc: the standalone server (src/server.ts) as one ES module, dist/server.js,
// replacing tsc's. Node loads ~1,100 files for the unbundled server and spends about 0.6 s of its
// 1.9 s start on finding, reading and compiling them; the bundle is one file (docs/performance.md).
// The library (dist/index.js) stays tsc's output: a host app bundles it as it likes.

/**
 * Packages left to Node: those that find their own files from their module's location (PGlite's
 * WebAssembly, Swagger UI's assets, the package.json that @fastify/swagger and ioredis read, Prisma's
 * query compiler), pino (its transports load files by path in worker threads) and pg's optional
 * native binding, which is not installed.
 */
const external = ['@electric-sql/pglite', '@fastify/swagger', '@fastify/swagger-ui', '@prisma/client', 'ioredis', 'pino', 'pg-native']

const root = new URL('../', import.meta.url)

export async function bundleServer (outfile = fileURLToPath(new URL('dist/server.js', root))): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('src/server.ts', root))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The CommonJS packages inside call require(): give the module one.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    external: external.flatMap(name => [name, `${name}/*`]),
    logLevel: 'warning'
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleServer(process.argv[2])
