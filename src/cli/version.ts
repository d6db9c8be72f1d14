import { readFileSync } from 'node:fs'
import { packageJsonFile } from '../paths.js'

/** This package's version, from its package.json. */
export function packageVersion (): string {
  try {
    return (JSON.parse(readFileSync(packageJsonFile, 'utf8')) as { version: string }).version
  } catch {
    // A copy of the server without its manifest beside it (the bench's build) still starts.
    return 'unknown'
  }
}
