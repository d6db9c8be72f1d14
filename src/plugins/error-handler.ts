import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { DatabaseUnavailableError, FrameworkErrorCode, InternalError, NotFoundError, ProviderTimeoutError, ProviderUnavailableError, SignupHookFailedError } from '../errors.js'
import { errorMessage, markLanguage, negotiateLanguage, withWording } from '../messages/index.js'

// Connection-level failures (PostgreSQL down or restarting) become 503 database_unavailable.
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08000', '08003', '08006', 'P1001', 'P1017'])
const isDatabaseDown = (error: unknown): boolean => {
  for (let cause = error as { code?: string, cause?: unknown } | undefined; cause; cause = cause.cause as typeof cause) {
    if (typeof cause.code === 'string' && CONNECTION_ERRORS.has(cause.code)) return true
    if (cause instanceof Error && /Connection terminated|timeout exceeded when trying to connect|PGlite is closed/i.test(cause.message)) return true
  }
  return false
}

// Fastify's own 4xx (wrong content type, body too large) keep their status with our codes, and our
// words: Fastify's own sentence adds nothing to them.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: FrameworkErrorCode.unsupportedMediaType,
  FST_ERR_CTP_BODY_TOO_LARGE: FrameworkErrorCode.payloadTooLarge
}

// A 5xx answers internal_error with a generic message, except these, whose message is for the user.
// A provider's failure is worded by us (never the provider's text) and tells a native app to retry.
const PUBLIC_5XX = new Set<string>([new SignupHookFailedError().code, new ProviderTimeoutError('').code, new ProviderUnavailableError('').code])

// @fastify/error upper-cases codes; ours are documented in lower snake case.
const body = (statusCode: number, code: string, message: string) =>
  ({ statusCode, code: code.toLowerCase(), error: STATUS_CODES[statusCode] ?? 'Error', message })

/**
 * Sends an error answer worded in the reader's language (Accept-Language) when the catalog knows
 * its code; a host app's own codes keep their message and the answer its headers.
 */
function sendError (request: FastifyRequest, reply: FastifyReply, statusCode: number, code: string, error: { message: string }) {
  const stable = code.toLowerCase()
  const language = negotiateLanguage(request.headers['accept-language'])
  const message = errorMessage(language, stable, error)
  if (message !== undefined) markLanguage(reply, language)
  return reply.code(statusCode).send(body(statusCode, stable, message ?? error.message))
}

/**
 * Every error on handoff's routes, as `{ statusCode, code, error, message }`. A 5xx never shows its
 * message (except PUBLIC_5XX); a database outage is a 503 the client may retry.
 */
export function handleError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isDatabaseDown(error)) {
    request.log.error({ err: error }, 'database unavailable')
    const unavailable = new DatabaseUnavailableError()
    reply.header('retry-after', '5')
    return sendError(request, reply, 503, unavailable.code, unavailable)
  }
  const statusCode = error.validation ? 400 : error.statusCode ?? 500
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    if (PUBLIC_5XX.has(error.code)) return sendError(request, reply, statusCode, error.code, error)
    const internal = new InternalError()
    return sendError(request, reply, 500, internal.code, internal)
  }
  const known = FASTIFY_CODES[error.code]
  if (known !== undefined) return sendError(request, reply, statusCode, known, { message: '' })
  if (error.code !== undefined && !error.code.startsWith('FST_')) return sendError(request, reply, statusCode, error.code, error)
  // A host app's own @fastify/rate-limit also counts our routes' limits, and throws without a code.
  if (statusCode === 429) return sendError(request, reply, 429, FrameworkErrorCode.rateLimited, { message: '' })
  // Schema validation, malformed JSON and Fastify's other refusals: their own words are the detail.
  return sendError(request, reply, statusCode, FrameworkErrorCode.invalidRequest, withWording(new Error(), 'invalid_request_detail', { detail: error.message }))
}

export function handleNotFound (request: FastifyRequest, reply: FastifyReply) {
  const notFound = withWording(new NotFoundError(), 'route_not_found', { route: `${request.method} ${request.url.split('?')[0]}` })
  return sendError(request, reply, 404, notFound.code, notFound)
}

/**
 * Our handlers for a whole app, as far as it lets us: a handler the app set before registering
 * handoff stays in charge (Fastify would replace it silently, or throw for a second 404 handler).
 */
export function installErrorHandlers (app: FastifyInstance): void {
  // Fastify binds every handler it is given ("bound …"): only its own default has this name.
  if (app.errorHandler.name === 'defaultErrorHandler') app.setErrorHandler(handleError)
  try {
    app.setNotFoundHandler(handleNotFound)
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('Not found handler already set'))) throw error
  }
}
