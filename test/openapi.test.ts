import { readFile } from 'node:fs/promises'
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { startFakeApple } from './fakes/apple.js'
import { startFakeGitHub } from './fakes/github.js'
import { buildTestApp } from './helpers/build-app.js'

const github = await startFakeGitHub()
const apple = await startFakeApple()
t.teardown(() => Promise.all([github.close(), apple.close()]))

interface Operation { operationId?: string, tags?: string[], responses?: Record<string, { description?: string, content?: Record<string, { schema?: unknown }> }>, security?: Array<Record<string, string[]>>, requestBody?: unknown }

const operationsOf = (document: { paths: Record<string, Record<string, Operation>> }) =>
  Object.entries(document.paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => ({ path, method, operation })))

t.test('the OpenAPI document is valid and documents every route', async t => {
  const { app } = await buildTestApp(t, { ...github.env, ...apple.env })
  const response = await app.inject('/docs/json')
  t.equal(response.statusCode, 200)
  const document = response.json()
  await t.resolves(SwaggerParser.validate(structuredClone(document)), 'a valid OpenAPI 3.1 document')
  const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(document.info.version, version, 'the version is the package\'s')
  // Swagger UI's "Try it out" sends a body's first example: a browser's is empty, or the call would be a native app's.
  for (const path of ['/auth/refresh', '/auth/logout']) {
    const examples = document.paths[path].post.requestBody.content['application/json'].examples as Record<string, { value: unknown }>
    t.same(Object.values(examples)[0].value, {}, `${path}: the first example is a browser's empty body`)
  }

  const paths = document.paths as Record<string, Record<string, Operation>>
  const expected = ['/health', '/.well-known/jwks.json', '/auth/providers', '/auth/{provider}/login', '/auth/{provider}/callback', '/auth/{provider}/link', '/auth/{provider}/token', '/auth/exchange', '/auth/signup',
    '/auth/nickname/availability', '/auth/messages', '/auth/me', '/auth/refresh', '/auth/logout', '/auth/sessions', '/auth/sessions/{id}', '/users/me', '/users/me/identities/{id}']
  for (const path of expected) t.ok(paths[path], `${path} is documented`)

  for (const { path, method, operation } of operationsOf(document)) {
    t.ok(operation.tags?.length, `${method} ${path} has a tag`)
    for (const [status, reply] of Object.entries(operation.responses ?? {})) {
      if (['204', '302', '304'].includes(status)) continue
      // A provider's webhook answers an empty 200 (Apple and Kakao read only the status): declared
      // as such, with a description and no content.
      if (status === '200' && path.startsWith('/auth/') && /unlink|notifications/.test(path) && reply.content === undefined) {
        t.ok(reply.description, `${method} ${path} ${status}: an empty answer, described`)
        continue
      }
      t.ok(reply.content?.['application/json']?.schema ?? reply.content?.['text/html']?.schema, `${method} ${path} ${status} has a response schema`)
    }
  }
  t.same(paths['/auth/me'].get.security, [{ accessCookie: [] }, { bearerToken: [] }], 'cookie auth, or a native app\'s bearer token, declared on /auth/me')
  t.match(document.components.securitySchemes.bearerToken, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.same(document.components.securitySchemes.accessCookie, { type: 'apiKey', in: 'cookie', name: 'handoff_access', description: document.components.securitySchemes.accessCookie.description })
  t.ok(document.components.schemas.Error, 'the error shape is a named component')
  t.ok(document.components.schemas.PublicUser)
  t.match(paths['/auth/{provider}/callback'].get, { description: /access_denied.*invalid_state/s }, 'the redirect error codes are listed')
  t.match(paths['/auth/{provider}/callback'].post, { operationId: 'handleProviderFormPostCallback', requestBody: { content: { 'application/x-www-form-urlencoded': {} } }, responses: { 200: { content: { 'text/html': {} } } } },
    'with a form_post provider (Apple), the POST callback and its relay page')
})

t.test('every operation has a unique camelCase operationId, for generated clients', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const operations = operationsOf((await app.inject('/docs/json')).json())
  const ids = operations.map(({ operation }) => operation.operationId)
  for (const [index, { path, method }] of operations.entries()) t.match(ids[index], /^[a-z][a-zA-Z]+$/, `${method} ${path}: ${ids[index]}`)
  t.equal(new Set(ids).size, ids.length, 'no two operations share one')
  const byRoute = Object.fromEntries(operations.map(({ path, method, operation }) => [`${method.toUpperCase()} ${path}`, operation.operationId]))
  t.match(byRoute, {
    'GET /auth/{provider}/login': 'startLogin',
    'POST /auth/exchange': 'exchangeLoginCode',
    'POST /auth/refresh': 'refreshSession',
    'GET /auth/dev/login': 'showDevLoginForm'
  })
})

t.test('the CSRF header and the cookies are declared where the routes need them', async t => {
  const { app } = await buildTestApp(t, { ...github.env, DEV_LOGIN: 'true' })
  const document = (await app.inject('/docs/json')).json()
  const schemes = document.components.securitySchemes
  t.same(schemes.csrfHeader, { type: 'apiKey', in: 'header', name: 'X-Requested-With', description: schemes.csrfHeader.description })
  t.match(schemes.refreshCookie, { type: 'apiKey', in: 'cookie', name: 'handoff_refresh' })
  t.match(schemes.signupCookie, { type: 'apiKey', in: 'cookie', name: 'handoff_signup' })

  const paths = document.paths as Record<string, Record<string, Operation>>
  t.same(paths['/auth/refresh'].post.security, [{ refreshCookie: [], csrfHeader: [] }])
  t.same(paths['/auth/signup'].post.security, [{ signupCookie: [], csrfHeader: [] }])
  t.same(paths['/auth/exchange'].post.security, [{ csrfHeader: [] }])
  t.same(paths['/auth/logout'].post.security, [{ refreshCookie: [], csrfHeader: [] }, { accessCookie: [], csrfHeader: [] }, { bearerToken: [] }, { csrfHeader: [] }], 'logout: either cookie, a native app\'s bearer token, or none')
  t.same(paths['/users/me'].patch.security, [{ accessCookie: [], csrfHeader: [] }, { bearerToken: [] }], 'the bearer alternative needs no CSRF header')

  // The document and the check agree: each operation that declares the header is refused without
  // it, and each state-changing one that does not (the dev login form's POST, a native app's SDK
  // token) is not. A bearer token alone is the one alternative exempt from it.
  const sample = (path: string) => path.replace('{provider}', 'github').replace('{id}', '00000000-0000-4000-8000-000000000000')
  const stateChanging = operationsOf(document).filter(({ method }) => ['post', 'patch', 'delete'].includes(method))
  t.ok(stateChanging.length >= 9)
  for (const { path, method, operation } of stateChanging) {
    const withoutBearer = operation.security?.filter(requirement => !('bearerToken' in requirement))
    const declared = withoutBearer?.length !== undefined && withoutBearer.length > 0 && withoutBearer.every(requirement => 'csrfHeader' in requirement)
    t.notOk(operation.security?.some(requirement => 'bearerToken' in requirement && 'csrfHeader' in requirement), `${method.toUpperCase()} ${path}: no CSRF header beside a bearer token`)
    const bare = await app.inject({ method: method.toUpperCase() as 'POST', url: sample(path) })
    const refused = bare.statusCode === 403 && bare.json().code === 'csrf_rejected'
    t.equal(refused, declared, `${method.toUpperCase()} ${path}: ${declared ? 'declares the header and needs it' : 'neither declares nor needs it'}`)
    if (operation.security?.some(requirement => 'bearerToken' in requirement) !== true) continue
    const bearer = await app.inject({ method: method.toUpperCase() as 'POST', url: sample(path), headers: { authorization: 'Bearer x' } })
    t.not(bearer.statusCode === 403 ? bearer.json().code : bearer.statusCode, 'csrf_rejected', `${method.toUpperCase()} ${path}: a bearer request without cookies passes the CSRF check`)
  }
  t.notOk(operationsOf(document).some(({ method, operation }) => method === 'get' && JSON.stringify(operation.security ?? []).includes('csrfHeader')), 'no GET asks for it')
})

t.test('the providers\' unlink webhooks are documented when their providers are configured, without the CSRF header', async t => {
  // No provider is called at start: settings alone are enough.
  const kakao = { KAKAO_CLIENT_ID: 'kakao-rest-key', KAKAO_ADMIN_KEY: 'kakao-admin-key', KAKAO_APP_ID: '1234567' }
  const { app } = await buildTestApp(t, { ...kakao, NAVER_CLIENT_ID: 'naverClientId', NAVER_CLIENT_SECRET: 'naverClientSecret' })
  const document = (await app.inject('/docs/json')).json()
  await t.resolves(SwaggerParser.validate(structuredClone(document)), 'still a valid document')
  const paths = document.paths as Record<string, Record<string, Operation & { parameters?: Array<{ name: string, in: string }> }>>
  t.match(paths['/auth/kakao/unlink'], { get: { operationId: 'receiveKakaoUnlink', tags: ['webhooks'] }, post: { operationId: 'receiveKakaoUnlinkForm', tags: ['webhooks'] } })
  t.match(paths['/auth/naver/unlink'], { post: { operationId: 'receiveNaverUnlink', tags: ['webhooks'] } })
  t.same(paths['/auth/kakao/unlink'].get.parameters?.filter(parameter => parameter.in === 'query').map(parameter => parameter.name).sort(), ['app_id', 'group_user_token', 'referrer_type', 'user_id'])
  t.ok(paths['/auth/kakao/unlink'].post.requestBody, 'the POST documents its form')
  for (const [path, method, success] of [['/auth/kakao/unlink', 'get', '200'], ['/auth/kakao/unlink', 'post', '200'], ['/auth/naver/unlink', 'post', '204']] as const) {
    const operation = paths[path][method]
    t.same(Object.keys(operation.responses ?? {}).sort(), [success, '400', '401'].sort(), `${method} ${path}: its answers`)
    t.notOk(JSON.stringify(operation.security ?? []).includes('csrfHeader'), `${method} ${path}: a provider's server sends no X-Requested-With`)
    // Without the header the CSRF check does not refuse it: the webhook's own check does.
    const bare = await app.inject({ method: method.toUpperCase() as 'GET' | 'POST', url: path })
    t.not(bare.statusCode, 403, `${method} ${path} is not refused as CSRF`)
  }
  t.ok(document.tags.some((tag: { name: string }) => tag.name === 'webhooks'), 'the tag is described')
})

t.test('Swagger UI is served at /docs', async t => {
  const { app } = await buildTestApp(t)
  const response = await app.inject('/docs/')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/html/)
  t.match(response.body, /swagger/i)
})

t.test('DOCS_ENABLED=false: no /docs, no /docs/json, the API unchanged', async t => {
  const { app } = await buildTestApp(t, { DOCS_ENABLED: 'false' })
  for (const url of ['/docs', '/docs/', '/docs/json', '/docs/static/swagger-initializer.js']) {
    const response = await app.inject(url)
    t.equal(response.statusCode, 404, `${url}: 404`)
    t.equal(response.json().code, 'not_found')
  }
  t.equal((await app.inject('/health')).statusCode, 200)
})
