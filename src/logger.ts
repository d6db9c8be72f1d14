import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { destination, pino, type DestinationStream, type Logger } from 'pino'
import type { Config } from './config.js'

// Query parameters whose values must never reach a log: provider codes and state on the callback,
// our one-time code (HANDOFF_CODE_IN=query frontends may bounce it back), PKCE values, tokens, and
// Naver's unlink webhook (its signed call could be replayed within the window; the id is a person's).
const SECRET_PARAMS = /^(code|state|code_verifier|code_challenge|access_token|refresh_token|id_token|token|nonce|signature|encryptUniqueId)$/i

/** The request URL as logged: sensitive query values replaced. */
export function redactUrl (url: string): string {
  const queryStart = url.indexOf('?')
  if (queryStart === -1) return url
  const params = new URLSearchParams(url.slice(queryStart + 1))
  for (const key of new Set(params.keys())) {
    if (SECRET_PARAMS.test(key)) params.set(key, '[Redacted]')
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`
}

interface LoggedRequest { method: string, url: string, hostname?: string, ip?: string, socket?: { remotePort?: number } }

/**
 * The server's logger. Writes to stdout asynchronously unless given a stream: lines written while one
 * write is under way go out together in the next, instead of one blocking syscall per line; pino
 * flushes them on exit.
 */
export function createLogger (config: Pick<Config, 'logLevel'>, stream: DestinationStream = destination({ sync: false })): Logger {
  return pino({
    level: config.logLevel,
    // Cookies, authorization headers and token-bearing bodies, wherever they show up in a log object.
    redact: {
      paths: [
        'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'headers.cookie', 'headers.authorization',
        '*.access_token', '*.refresh_token', '*.id_token', '*.code_verifier', '*.client_secret', 'body.code', 'query.code', 'query.state',
        // A native app's bodies (camelCase, docs/mobile.md).
        '*.accessToken', '*.refreshToken', '*.idToken', '*.signupToken', '*.deviceSecret'
      ],
      censor: '[Redacted]'
    },
    serializers: {
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.hostname,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort
      })
    }
  }, stream)
}

/**
 * Readable lines for a person at a terminal in development (pino-pretty, an optional dependency);
 * undefined, so JSON lines, anywhere else: in production, into a pipe, a file or a log collector, or
 * when pino-pretty was left out (`npm install --omit=optional`).
 */
export async function prettyLogStream (config: Pick<Config, 'nodeEnv'>, stdout: { isTTY?: boolean } = process.stdout): Promise<DestinationStream | undefined> {
  if (config.nodeEnv === 'production' || stdout.isTTY !== true) return undefined
  try {
    const { default: pretty } = await import('pino-pretty')
    // In this thread, not as a transport: a worker would cost a start that a person is waiting for.
    return pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
  } catch {
    return undefined
  }
}

/**
 * One line per request, when it is answered, instead of Fastify's two ("incoming request" and
 * "request completed"); errors keep Fastify's own line, with the full redaction. The line holds only
 * values chosen here, the URL with its secret query values replaced, so it skips the redaction walk
 * that guards arbitrary log objects: on `GET /auth/me` that walk cost more than the rest of the line
 * (docs/performance.md).
 */
export class AccessLog extends LogController {
  readonly #lines: Logger

  constructor (logger: Logger) {
    super()
    this.#lines = logger.child({}, { redact: [] })
  }

  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    this.#lines.info({
      reqId: request.id,
      method: request.method,
      url: redactUrl(request.url),
      statusCode: reply.statusCode,
      remoteAddress: request.ip,
      responseTime: reply.elapsedTime
    }, 'request completed')
  }
}
