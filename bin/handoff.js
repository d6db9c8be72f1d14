#!/usr/bin/env node
// `handoff` (`npx handoff`, `npm start`): the compiled command line, dist/cli.js. An installed package
// ships it; a clone builds it once with `npm run build`, so that a start never compiles anything.
import { existsSync } from 'node:fs'
import module from 'node:module'

// Node 22.1+ keeps the compiled code of the modules below in a cache on disk (the OS's temporary
// directory, NODE_COMPILE_CACHE to choose another): every start after the first skips compiling them.
module.enableCompileCache?.()

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  console.error('handoff: dist/cli.js is missing: in a clone, run `npm ci && npm run build` once (and `npm run build` after each pull)')
  process.exit(1)
}
await import(cli.href)
