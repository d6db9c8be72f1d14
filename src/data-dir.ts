import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'

/**
 * A development secret kept under DATA_DIR (the JWT secret or key, the provider token key): read
 * it, or create it once (mode 600) and log `warning`. Created by a hard link from a private temp
 * file, which fails if the file exists: two processes starting on one DATA_DIR at the same moment
 * (tests, `npm run dev` beside a migration) end up with the same secret, never a half-written one.
 */
export async function readOrCreateSecretFile (file: string, create: () => string, log: FastifyBaseLogger, warning: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {}
  await mkdir(path.dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`
  const value = create()
  await writeFile(temp, value, { mode: 0o600 })
  try {
    await link(temp, file)
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error
    return (await readFile(file, 'utf8')).trim()
  } finally {
    await unlink(temp).catch(() => {})
  }
  log.warn({ file }, warning)
  return value
}
