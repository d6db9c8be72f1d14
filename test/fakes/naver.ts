import { randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake Naver (nid + openapi on one host) for the Naver section of docs/providers.md: state
// mandatory, no PKCE, the token call's parameters read from the query or a form body, token errors
// with HTTP 200, `expires_in` as a string, the profile inside a resultcode/response envelope.

export interface NaverUser { id: string, nickname: string, name: string, email?: string, profile_image: string }

export interface FakeNaver {
  origin: string
  clientId: string
  clientSecret: string
  requests: RecordedRequest[]
  user: NaverUser
  authorize: 'approve' | 'deny'
  token: 'ok' | 'invalid_request' | 'hang' | 'status500'
  profile: 'ok' | 'unauthorized' | 'hang' | 'resultcode_error'
  env: Record<string, string>
  close(): Promise<void>
}

export async function startFakeNaver (): Promise<FakeNaver> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const codes = new Map<string, { state: string, used: boolean }>()
  const tokens = new Set<string>()
  const hang = () => new Promise<never>(() => {})

  const fake = {
    clientId: 'fakeNaverClientId',
    clientSecret: 'fakeNaverSecret',
    requests: recordRequests(app),
    user: { id: 'Tq1lG8W1pHc7oR2xvC0Jv3p0c6pIh0oYgZbS6n5mPqs', nickname: 'OpenAPI', name: '오픈 API', email: 'openapi@naver.com', profile_image: 'https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif' } as NaverUser,
    authorize: 'approve' as FakeNaver['authorize'],
    token: 'ok' as FakeNaver['token'],
    profile: 'ok' as FakeNaver['profile']
  }

  app.get('/oauth2.0/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>
    // Naver refuses an authorize request without state on its own page.
    if (query.client_id !== fake.clientId || query.state === undefined || query.state === '') return reply.code(400).type('text/html').send('<h1>잘못된 요청입니다</h1>')
    const back = new URL(query.redirect_uri)
    back.searchParams.set('state', query.state)
    if (fake.authorize === 'deny') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'Canceled By User')
    } else {
      const code = randomBytes(12).toString('base64url')
      codes.set(code, { state: query.state, used: false })
      back.searchParams.set('code', code)
    }
    return reply.redirect(back.toString(), 302)
  })

  app.route({
    method: ['GET', 'POST'],
    url: '/oauth2.0/token',
    handler: async request => {
      const params = { ...(request.query as Record<string, string>), ...(request.body as Record<string, string> | undefined) }
      const error = (code: string, description: string) => ({ error: code, error_description: description })
      if (fake.token === 'hang') return hang()
      if (fake.token === 'status500') throw new Error('boom')
      if (fake.token === 'invalid_request') return error('invalid_request', 'no valid data in session')
      if (params.client_id !== fake.clientId || params.client_secret !== fake.clientSecret) return error('invalid_client', 'client authentication failed')
      const issued = codes.get(params.code)
      if (issued === undefined || issued.used || params.state !== issued.state) return error('invalid_request', 'no valid data in session')
      issued.used = true
      const token = randomBytes(30).toString('base64')
      tokens.add(token)
      return { access_token: token, refresh_token: randomBytes(30).toString('base64'), token_type: 'bearer', expires_in: '3600' }
    }
  })

  app.get('/v1/nid/me', async (request, reply) => {
    if (fake.profile === 'hang') return hang()
    const match = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))
    if (fake.profile === 'unauthorized' || match === null || !tokens.has(match[1])) return reply.code(401).send({ resultcode: '024', message: 'Authentication failed / 인증에 실패했습니다.' })
    if (fake.profile === 'resultcode_error') return { resultcode: '028', message: 'Not Exist Authentication Header' }
    return { resultcode: '00', message: 'success', response: fake.user }
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  return Object.assign(fake, {
    origin,
    env: { NAVER_CLIENT_ID: fake.clientId, NAVER_CLIENT_SECRET: fake.clientSecret, NAVER_AUTH_URL: origin, NAVER_API_URL: origin },
    close: async () => { await app.close() }
  })
}
