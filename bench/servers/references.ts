import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import { BENCH_JWT_SECRET, BENCH_PUBLIC_URL, benchUserCount, COOKIE_NAMES, unsupported, type BenchServer } from './bench-server.js'

// The limits of the machine at hand: a bare route, and a bare route that verifies an HS256 cookie
// the way @fastify/jwt does out of the box (optionally with fast-jwt's verifier cache). No logger,
// no schemas, no hooks: whatever handoff spends above these is our own cost.

export async function startPing (): Promise<BenchServer> {
  const app = Fastify()
  app.get('/ping', async () => ({ pong: true }))
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, cookieNames: COOKIE_NAMES, seed: kind => unsupported('ping', kind), close: () => app.close() }
}

export async function startJwtReference ({ cache }: { cache: boolean }): Promise<BenchServer> {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifyJwt, {
    secret: BENCH_JWT_SECRET,
    cookie: { cookieName: COOKIE_NAMES.access, signed: false },
    sign: { algorithm: 'HS256', expiresIn: 900, iss: BENCH_PUBLIC_URL, aud: 'handoff', kid: 'bench' },
    verify: { algorithms: ['HS256'], ...(cache ? { cache: true } : {}) }
  })
  app.get('/auth/me', async (request) => {
    const claims = await request.jwtVerify<{ sub: string, nickname: string, picture?: string }>()
    return { user: { id: claims.sub, nickname: claims.nickname, avatarUrl: claims.picture ?? null } }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    cookieNames: COOKIE_NAMES,
    async seed (kind, count) {
      if (kind !== 'access') return unsupported('jwt', kind)
      // The same claims handoff puts in its access token, for as many distinct users.
      const users = Math.min(count, benchUserCount())
      return Array.from({ length: users }, (_, i) => app.jwt.sign({ sub: randomUUID(), sid: randomUUID(), nickname: `user_${i}` }))
    },
    close: () => app.close()
  }
}
