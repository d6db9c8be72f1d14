import type { Clock } from './clock.js'
import type { Config } from './config.js'

/**
 * Everything handoff decorates on a Fastify instance, under one name, so a host app's own
 * `config` (@fastify/env), `db` or `clock` never collides with ours. Each plugin adds its part
 * by augmenting this interface next to the code that fills it in (`db`, `accessTokens`,
 * `sessionRevocations`).
 */
export interface HandoffNamespace {
  /** The validated settings. Holds secrets: never log or serialize it. */
  readonly config: Readonly<Config>
  readonly clock: Clock
}

declare module 'fastify' {
  interface FastifyInstance {
    handoff: HandoffNamespace
  }
}
