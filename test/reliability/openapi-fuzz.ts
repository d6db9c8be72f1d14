import http from 'node:http'
import { Ajv, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
import fc from 'fast-check'

// Turns the app's own OpenAPI document into request generators and response validators, so the
// fuzz suite follows the routes as they are documented instead of a list kept by hand.

export type JsonSchema = Record<string, unknown>
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, JsonSchema> }
}
export interface Parameter { in: 'query' | 'path' | 'header' | 'cookie', name: string, required?: boolean, schema: JsonSchema }
export interface Operation {
  parameters?: Parameter[]
  requestBody?: { content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>
}

export interface Route { method: string, path: string, operation: Operation }

export function routesOf (document: OpenApiDocument): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })))
}

const resolve = (schema: JsonSchema, document: OpenApiDocument): JsonSchema => {
  const ref = schema.$ref
  if (typeof ref !== 'string') return schema
  return resolve(document.components.schemas[ref.replace('#/components/schemas/', '')], document)
}

// Strings a parser or a database has been known to choke on.
const nastyStrings = [
  '', ' ', '\u0000', 'null', 'undefined', 'NaN', '[]', '{}', '__proto__', 'constructor', '%00', '%', '%zz', '..%2f..%2f',
  '\u202e\u0000\ud800', '\ud83d\ude00', 'e\u0301', '\ufeff', '가'.repeat(20), 'Ａdmin', 'ß'.repeat(30), 'a\nb\r\nc',
  "' OR 1=1 --", '"; DROP TABLE users; --', '<script>alert(1)</script>', '$' + '{jndi:ldap://x}', '\\', '\\u0000',
  'x'.repeat(4097), '9'.repeat(400), '-1', '1e309', '0x10', 'true', ' true '
]
export const nastyString = (): fc.Arbitrary<string> => fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 3000 }) }
)

/** Values that match the schema, most of the time; reaching past validation is the point. */
export function validValue (schema: JsonSchema, document: OpenApiDocument, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, document)
  if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as JsonSchema[]).map(sub => validValue(sub, document, depth)))
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]))
  switch (s.type) {
    case 'string': {
      const maxLength = typeof s.maxLength === 'number' ? s.maxLength : 64
      if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern)).filter(value => value.length <= maxLength)
      if (s.format === 'uuid') return fc.uuid()
      if (s.format === 'email') return fc.emailAddress()
      return fc.string({ unit: 'grapheme', minLength: typeof s.minLength === 'number' ? s.minLength : 0, maxLength: Math.min(maxLength, 64) })
    }
    case 'boolean': return fc.boolean()
    case 'integer': return fc.integer()
    case 'number': return fc.double()
    case 'null': return fc.constant(null)
    case 'array': return depth > 3 ? fc.constant([]) : fc.array(validValue((s.items ?? {}) as JsonSchema, document, depth + 1), { maxLength: 3 })
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, JsonSchema>
      const required = (s.required ?? []) as string[]
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [name, sub] of Object.entries(properties)) record[name] = depth > 3 ? fc.constant(null) : validValue(sub, document, depth + 1)
      return fc.record(record, { requiredKeys: required.filter(name => name in properties) })
    }
    default: return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Anything JSON can carry: wrong types, deep nesting, prototype keys. */
const wrongValue = (): fc.Arbitrary<unknown> => fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nastyString(),
  fc.constantFrom<unknown>(null, true, 0, -1, 1e308, [], {}, [[[[[]]]]], { __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } })
)

/** A value for the schema, or one that breaks it (a wrong type, an extra key, a missing key). */
export function fuzzValue (schema: JsonSchema, document: OpenApiDocument): fc.Arbitrary<unknown> {
  const s = resolve(schema, document)
  const base = validValue(s, document)
  if (s.type !== 'object') return fc.oneof({ weight: 3, arbitrary: base }, { weight: 2, arbitrary: wrongValue() })
  const properties = Object.keys((s.properties ?? {}) as Record<string, unknown>)
  const mutated = fc.tuple(base, fc.constantFrom(...(properties.length > 0 ? properties : ['x'])), wrongValue(), fc.boolean())
    .map(([value, key, wrong, drop]) => {
      const copy = { ...(value as Record<string, unknown>) }
      if (drop) delete copy[key]
      else copy[key] = wrong
      return copy
    })
  const extraKey = fc.tuple(base, fc.string({ maxLength: 12 }), wrongValue()).map(([value, key, wrong]) => ({ ...(value as object), [key]: wrong }))
  return fc.oneof({ weight: 4, arbitrary: base }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: extraKey }, { weight: 1, arbitrary: wrongValue() })
}

/** Response validators for each documented status, with the document's components resolvable. */
export function responseValidators (document: OpenApiDocument): { forStatus: (route: Route, status: number) => ValidateFunction | null | undefined, error: ValidateFunction } {
  const ajv = new Ajv({ strict: false, allErrors: true })
  // ajv-formats is CommonJS: its module object is the plugin and also carries it as `default`.
  formats.default(ajv)
  ajv.addSchema({ $id: 'doc', components: document.components })
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite)
    if (value === null || typeof value !== 'object') return value
    return Object.fromEntries(Object.entries(value).map(([key, inner]) =>
      [key, key === '$ref' && typeof inner === 'string' ? `doc${inner}` : rewrite(inner)]))
  }
  const cache = new Map<string, ValidateFunction | null>()
  /** undefined: the status is not documented; null: documented without a JSON body. */
  const forStatus = (route: Route, status: number) => {
    const key = `${route.method} ${route.path} ${status}`
    if (cache.has(key)) return cache.get(key)
    const response = route.operation.responses[String(status)]
    if (response === undefined) return undefined
    const schema = response.content?.['application/json']?.schema
    const validate = schema === undefined ? null : ajv.compile(rewrite(schema) as JsonSchema)
    cache.set(key, validate)
    return validate
  }
  return { forStatus, error: ajv.compile({ $ref: 'doc#/components/schemas/Error' }) }
}

export interface RawResponse { status: number, headers: http.IncomingHttpHeaders, body: string }

/**
 * One request over real HTTP. node:http rather than fetch: it lets a test repeat headers, lie
 * about Content-Length, and send raw bytes (a browser sends UTF-8 cookies as they are).
 */
export function send (origin: string, request: { method: string, path: string, headers?: Record<string, string | string[]>, body?: string | Buffer }, agent?: http.Agent): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(origin)
    // The path goes out as bytes, unescaped: UTF-8 sent raw, as a sloppy client would.
    // eslint-disable-next-line no-control-regex
    const path = Buffer.from(request.path, 'utf8').toString('latin1').replace(/[\x00-\x20\x7f]/g, '')
    const outgoing = http.request({ hostname, port, path, method: request.method, headers: request.headers, agent }, incoming => {
      const chunks: Buffer[] = []
      incoming.on('data', chunk => chunks.push(chunk))
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') }))
      incoming.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}

/** Header values as bytes on the wire: UTF-8, minus the bytes node refuses to send (CR, LF, NUL…). */
export const headerSafe = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  Buffer.from(value, 'utf8').toString('latin1').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
