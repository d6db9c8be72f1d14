import { execFile } from 'node:child_process'
import { rm, symlink } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { bundleServer } from '../scripts/bundle-server.js'

// The servers under test run as compiled JavaScript under plain `node`, as in production (`npm
// start` runs dist/server.js): tsx's loader would add its own thread and ~35 MB to every process.
// tsc compiles src/ and bench/ into bench/.build/, keeping their layout, so paths that src/ resolves
// from its own location (prisma/migrations) are linked in beside them. The start-to-ready case runs
// the server bundled as `npm run build` bundles it, at bench/.build/bundle/server.js.

const root = fileURLToPath(new URL('..', import.meta.url))
export const buildDir = fileURLToPath(new URL('./.build/', import.meta.url))
export const bundledServer = `${buildDir}bundle/server.js`

export async function compileBench (): Promise<void> {
  await rm(buildDir, { recursive: true, force: true })
  await promisify(execFile)(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}bench/tsconfig.json`], { cwd: root })
  await symlink(`${root}prisma`, `${buildDir}prisma`)
  await bundleServer(`${buildDir}bundle/`)
}
