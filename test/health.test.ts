import t from 'tap'
import { buildTestApp } from './helpers/build-app.js'

t.test('GET /health is 200 when the database answers', async t => {
  const { app } = await buildTestApp(t)
  const response = await app.inject('/health')
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok', database: 'ok' })
})

t.test('unknown routes are a 404 JSON error', async t => {
  const { app } = await buildTestApp(t)
  const response = await app.inject('/nope?code=secret')
  t.equal(response.statusCode, 404)
  t.same(response.json(), { statusCode: 404, code: 'not_found', error: 'Not Found', message: 'Route GET /nope not found' })
})
