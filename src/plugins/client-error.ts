import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { FrameworkErrorCode } from '../errors.js'
import { en } from '../messages/en.js'
import { catalogOf, markLanguage, negotiateLanguage } from '../messages/index.js'

/**
 * Requests Node's HTTP parser refuses (raw bytes in the URL, headers over 16 KiB, a malformed
 * request line) never reach a route or the error handler. Fastify's default answers them without
 * our `code`; this answers them in the documented error shape, as Fastify does otherwise
 * (fastify.js defaultClientErrorHandler): nothing to send on a reset socket, then close it.
 * In English: a request the parser refused has no headers we could trust for its language.
 */
export function clientErrorHandler (error: Error & { code?: string, rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const statusCode = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const message = en.details[statusCode === 408 ? 'request_timeout' : statusCode === 431 ? 'headers_too_large' : 'request_malformed']
  const body = JSON.stringify({ statusCode, code: FrameworkErrorCode.invalidRequest, error: STATUS_CODES[statusCode], message })
  // A reply to HEAD has no body, or the client reads it as the start of another response.
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD '
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Language: en\r\nConnection: close\r\n\r\n${head ? '' : body}`)
  }
  socket.destroy(error)
}

/**
 * The router's own refusals, before any route or hook: a malformed percent-encoding in the path
 * (400) or a path parameter over 100 characters (414). Fastify's default body has its FST_ code;
 * ours is the documented shape, in the client's language.
 */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = error.statusCode ?? 400
  const language = negotiateLanguage(request.headers['accept-language'])
  const message = catalogOf(language).details[statusCode === 414 ? 'path_parameter_too_long' : 'url_malformed']
  markLanguage(reply, language)
  reply.code(statusCode).send({ statusCode, code: FrameworkErrorCode.invalidRequest, error: STATUS_CODES[statusCode], message })
}
