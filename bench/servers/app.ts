import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createPglite } from '../../src/db/pglite.js'
import { loadConfig } from '../../src/config.js'
import { sessionCookies } from '../../src/sessions/cookies.js'
import type { DatabaseKind } from '../protocol.js'
import { createUsers, issueLoginCodes, issueRefreshTokens, nicknameQueries, type BenchUser } from '../seed.js'
import { BENCH_JWT_SECRET, BENCH_PUBLIC_URL, benchUserCount, type BenchServer } from './bench-server.js'

// handoff itself, built by the same buildApp as src/server.ts with production settings: request
// logging at `info` (to this process's stdout, which the bench sends to /dev/null unless
// BENCH_VERBOSE is set), every plugin the server registers.

const RATE_LIMITS = ['RATE_LIMIT_LOGIN_PER_MINUTE', 'RATE_LIMIT_EXCHANGE_PER_MINUTE', 'RATE_LIMIT_REFRESH_PER_MINUTE', 'RATE_LIMIT_NICKNAME_PER_MINUTE']
const UNREACHABLE_LIMIT = 1_000_000_000

export async function startApp (options: { database: DatabaseKind, databaseUrl?: string, dataDir?: string }): Promise<BenchServer> {
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    PUBLIC_URL: BENCH_PUBLIC_URL,
    JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    // The limiter stays on (its per-request cost is part of the figures) but never trips: the load
    // comes from one address and stands for many clients, each under its own limit.
    ...Object.fromEntries(RATE_LIMITS.map(name => [name, String(UNREACHABLE_LIMIT)])),
    DATA_DIR: options.dataDir as string,
    ...(options.database === 'postgres' ? { DATABASE_URL: options.databaseUrl, MIGRATE_ON_START: 'true' } : {})
  })
  // A fresh PGlite runs initdb, 4 s on an idle 2-core machine and 10-20 s on a busy one: more than
  // Fastify's 10 s plugin timeout. The bench measures requests, not that (bench/startup.ts does), so
  // it opens the embedded database before buildApp and hands it in, as the tests do.
  const instance = options.database === 'pglite' ? await createPglite(options.dataDir) : undefined
  const app: FastifyInstance = await buildApp({ config, database: instance === undefined ? undefined : { kind: 'pglite', instance } })
  const url = await app.listen({ host: config.host, port: 0 })
  const names = sessionCookies(config)
  let users: BenchUser[] | undefined

  return {
    url,
    cookieNames: { access: names.accessName, refresh: names.refreshName },
    async seed (kind, count) {
      users ??= await createUsers(app.handoff.db.sql, benchUserCount())
      switch (kind) {
        // What signAccessToken puts in the token, signed with the app's own signer.
        case 'access': return users.slice(0, count).map(user => app.handoff.accessTokens.sign({ sub: user.id, sid: randomUUID(), nickname: user.nickname }))
        case 'refresh': return issueRefreshTokens(app.handoff.db.sql, users, count)
        case 'code': return issueLoginCodes(app.handoff.db.sql, users, count)
        case 'nickname': return nicknameQueries(users, count)
      }
    },
    async close () {
      await app.close()
      await instance?.close()
    }
  }
}
