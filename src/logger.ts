import type { FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'

// Query parameters whose values must never reach a log: provider codes and state on the callback,
// our one-time code (HANDOFF_CODE_IN=query frontends may bounce it back), PKCE values, tokens.
const SECRET_PARAMS = /^(code|state|code_verifier|code_challenge|access_token|refresh_token|id_token|token|nonce)$/i

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

export function loggerOptions (config: Pick<Config, 'logLevel'>, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream === undefined ? {} : { stream }),
    // Cookies, authorization headers and token-bearing bodies, wherever they show up in a log object.
    redact: {
      paths: [
        'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'headers.cookie', 'headers.authorization',
        '*.access_token', '*.refresh_token', '*.id_token', '*.code_verifier', '*.client_secret', 'body.code', 'query.code', 'query.state'
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
  }
}
