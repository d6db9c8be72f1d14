import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { startFakeGitHub } from './fakes/github.js'
import { buildTestApp } from './helpers/build-app.js'

const github = await startFakeGitHub()
t.teardown(() => github.close())

interface Operation { tags?: string[], responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>, security?: unknown[], requestBody?: unknown }

t.test('the OpenAPI document is valid and documents every route', async t => {
  const { app } = await buildTestApp(t, github.env)
  const response = await app.inject('/docs/json')
  t.equal(response.statusCode, 200)
  const document = response.json()
  await t.resolves(SwaggerParser.validate(structuredClone(document)), 'a valid OpenAPI 3.1 document')

  const paths = document.paths as Record<string, Record<string, Operation>>
  const expected = ['/health', '/auth/providers', '/auth/{provider}/login', '/auth/{provider}/callback', '/auth/exchange', '/auth/signup', '/auth/nickname/availability', '/auth/me', '/auth/refresh', '/auth/logout', '/users/me']
  for (const path of expected) t.ok(paths[path], `${path} is documented`)

  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.tags?.length, `${method} ${path} has a tag`)
      for (const [status, reply] of Object.entries(operation.responses ?? {})) {
        if (['204', '302'].includes(status)) continue
        t.ok(reply.content?.['application/json']?.schema, `${method} ${path} ${status} has a response schema`)
      }
    }
  }
  t.same(paths['/auth/me'].get.security, [{ accessCookie: [] }], 'cookie auth declared on /auth/me')
  t.same(document.components.securitySchemes.accessCookie, { type: 'apiKey', in: 'cookie', name: 'handoff_access', description: document.components.securitySchemes.accessCookie.description })
  t.ok(document.components.schemas.Error, 'the error shape is a named component')
  t.ok(document.components.schemas.PublicUser)
  t.match(paths['/auth/{provider}/callback'].get, { description: /access_denied.*invalid_state/s }, 'the redirect error codes are listed')
})

t.test('Swagger UI is served at /docs', async t => {
  const { app } = await buildTestApp(t)
  const response = await app.inject('/docs/')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/html/)
  t.match(response.body, /swagger/i)
})
