import type { PGlite } from '@electric-sql/pglite'
import fastifyCookie from '@fastify/cookie'
import Fastify from 'fastify'
import pg from 'pg'
import { openDatabase, type DatabaseTarget } from '../../src/db/database.js'
import { createPglite } from '../../src/db/pglite.js'
import { migrate } from '../../src/db/migrate.js'
import { generateSecret, hashSecret } from '../../src/secrets.js'
import type { DatabaseKind } from '../protocol.js'
import { createUsers, issueRefreshTokens, type BenchUser } from '../seed.js'
import { benchUserCount, COOKIE_NAMES, unsupported, type BenchServer } from './bench-server.js'

// The database floor: a refresh rotation written directly against the driver, as the issue defines
// it: UPDATE … RETURNING, then INSERT, in one transaction (four round trips with BEGIN and COMMIT).
// Bare Fastify and a cookie, no logger or schemas: what is left is the driver and the database.

const ROTATE = `UPDATE refresh_tokens SET rotated_at = now()
  WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > now() RETURNING session_id`
const INSERT = `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
  VALUES ($1, $2, now(), now() + interval '30 days')`

type Rotate = (presentedHash: string, nextHash: string) => Promise<boolean>

/** node-postgres: a pool of the app's default size, BEGIN … COMMIT on one client. */
function postgresRotate (pool: pg.Pool): Rotate {
  return async (presentedHash, nextHash) => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<{ session_id: string }>(ROTATE, [presentedHash])
      if (rows.length > 0) await client.query(INSERT, [nextHash, rows[0].session_id])
      await client.query('COMMIT')
      return rows.length > 0
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }
}

/** PGlite's own transaction API: the same two statements, no driver between us and the WASM engine. */
function pgliteRotate (db: PGlite): Rotate {
  return (presentedHash, nextHash) => db.transaction(async tx => {
    const { rows } = await tx.query<{ session_id: string }>(ROTATE, [presentedHash])
    if (rows.length > 0) await tx.query(INSERT, [nextHash, rows[0].session_id])
    return rows.length > 0
  })
}

export async function startFloor (options: { database: DatabaseKind, databaseUrl?: string, dataDir?: string }): Promise<BenchServer> {
  let target: DatabaseTarget
  let rotate: Rotate
  let closeDriver: () => Promise<unknown>
  if (options.database === 'postgres') {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 })
    target = { kind: 'postgres', url: options.databaseUrl as string, poolSize: 2 }
    rotate = postgresRotate(pool)
    closeDriver = () => pool.end()
  } else {
    const instance = await createPglite(options.dataDir)
    target = { kind: 'pglite', instance }
    rotate = pgliteRotate(instance)
    closeDriver = () => instance.close()
  }
  // Schema and seeding go through the project's own helpers; only the measured path is raw driver.
  const setup = await openDatabase(target)
  await migrate(setup.sql, { postgres: options.database === 'postgres' })
  let users: BenchUser[] | undefined

  const app = Fastify()
  await app.register(fastifyCookie)
  app.post('/auth/refresh', async (request, reply) => {
    const presented = request.cookies[COOKIE_NAMES.refresh]
    const next = generateSecret()
    if (presented === undefined || !(await rotate(hashSecret(presented), hashSecret(next)))) {
      return reply.code(401).send({ code: 'refresh_token_invalid' })
    }
    reply.setCookie(COOKIE_NAMES.refresh, next, { path: '/auth', httpOnly: true, sameSite: 'lax' })
    return { status: 'refreshed' }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })

  return {
    url,
    cookieNames: COOKIE_NAMES,
    async seed (kind, count) {
      if (kind !== 'refresh') return unsupported('floor', kind)
      users ??= await createUsers(setup.sql, benchUserCount())
      return issueRefreshTokens(setup.sql, users, count)
    },
    async close () {
      await app.close()
      await setup.close()
      await closeDriver()
    }
  }
}
