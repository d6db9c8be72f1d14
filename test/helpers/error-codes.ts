import * as errors from '../../src/errors.js'

/**
 * Every `code` a JSON error answer can carry, read from src/errors.ts itself: each error class it
 * exports (instantiated to read its code) and the codes given to Fastify's own refusals.
 */
export function jsonErrorCodes (): string[] {
  const classCodes = Object.values(errors)
    .filter(value => typeof value === 'function')
    .map(ErrorType => { try { return (new (ErrorType as new () => { code?: unknown, statusCode?: unknown })()) } catch { return {} } })
    .filter((error): error is { code: string, statusCode: number } => typeof (error as { code?: unknown }).code === 'string' && typeof (error as { statusCode?: unknown }).statusCode === 'number')
    .map(error => error.code.toLowerCase())
  return [...new Set([...classCodes, ...Object.values(errors.FrameworkErrorCode)])]
}
