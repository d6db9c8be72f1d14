import t from 'tap'
import { buildTestApp } from '../helpers/build-app.js'

// In development, a page opened on another loopback name of this machine than PUBLIC_URL's would
// lose its login cookies: it is sent to PUBLIC_URL's host first.

const development = { NODE_ENV: 'development', PUBLIC_URL: 'http://localhost:3000', DEV_LOGIN: 'true' }

t.test('a page on 127.0.0.1 goes to PUBLIC_URL\'s host, same path and query', async t => {
  const { app } = await buildTestApp(t, development)
  const response = await app.inject({ url: '/auth/dev/login?returnTo=%2Fhome', headers: { host: '127.0.0.1:3000' } })
  t.equal(response.statusCode, 307)
  t.equal(response.headers.location, 'http://localhost:3000/auth/dev/login?returnTo=%2Fhome')
  t.notOk(response.headers['set-cookie'], 'no login cookie set on the wrong host')
  const ipv6 = await app.inject({ url: '/auth/providers', headers: { host: '[::1]:3000' } })
  t.equal(ipv6.headers.location, 'http://localhost:3000/auth/providers')
})

t.test('left alone: PUBLIC_URL\'s own host, a POST, another machine\'s name, and a path that looks like a host', async t => {
  const { app } = await buildTestApp(t, development)
  t.equal((await app.inject({ url: '/auth/providers', headers: { host: 'localhost:3000' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: { host: '127.0.0.1:3000' } })).statusCode !== 307, true, 'a POST is not redirected')
  t.equal((await app.inject({ url: '/auth/providers', headers: { host: 'devbox.lan:3000' } })).statusCode, 200, 'not loopback: not ours to judge')
  const sneaky = await app.inject({ url: '//evil.example/x', headers: { host: '127.0.0.1:3000' } })
  t.equal(sneaky.headers.location, 'http://localhost:3000//evil.example/x', 'the redirect stays on PUBLIC_URL\'s origin')
})

t.test('outside development, and with a PUBLIC_URL that is not loopback: no redirect', async t => {
  const { app } = await buildTestApp(t, { PUBLIC_URL: 'http://localhost:3000' })
  t.equal((await app.inject({ url: '/auth/providers', headers: { host: '127.0.0.1:3000' } })).statusCode, 200, 'NODE_ENV=test')
  const { app: tunnel } = await buildTestApp(t, { NODE_ENV: 'development', PUBLIC_URL: 'https://dev.example.com' })
  t.equal((await tunnel.inject({ url: '/auth/providers', headers: { host: '127.0.0.1:3000' } })).statusCode, 200, 'PUBLIC_URL on another host (a tunnel)')
})

t.test('PORT=0 and no PUBLIC_URL (http://localhost:0): no redirect to a port nobody listens on', async t => {
  const { app } = await buildTestApp(t, { NODE_ENV: 'development', PUBLIC_URL: 'http://localhost:0' })
  t.equal((await app.inject({ url: '/auth/providers', headers: { host: '127.0.0.1:41943' } })).statusCode, 200)
})
