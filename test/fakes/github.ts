import { createHash, randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { recordRequests, type RecordedRequest } from './recorder.js'

// A fake GitHub (OAuth app + REST API) on 127.0.0.1 for the GitHub section of docs/providers.md:
// form-encoded token replies unless Accept asks for JSON, token errors with HTTP 200, 403 without a
// User-Agent, 401 "Bad credentials", /user/emails answering 404 to a token without user:email. The
// API lives under /api/v3, as on GitHub Enterprise, so the host-and-prefix override is exercised too.

export interface GitHubUser { id: number, login: string, name: string | null, avatar_url: string, email: string | null }
export interface GitHubEmail { email: string, primary: boolean, verified: boolean, visibility: string | null }

export interface FakeGitHub {
  webUrl: string
  apiUrl: string
  clientId: string
  clientSecret: string
  requests: RecordedRequest[]
  user: GitHubUser
  emails: GitHubEmail[]
  /** What the authorize page does: approve, or send the person back with a denial. */
  authorize: 'approve' | 'deny'
  /** How the token endpoint behaves. */
  token: 'ok' | 'bad_verification_code' | 'hang' | 'garbage' | 'status500'
  /** How /user behaves. */
  profile: 'ok' | 'unauthorized' | 'hang' | 'garbage'
  /** How /user/emails behaves: `no_scope` is GitHub's 404 to a token granted without user:email. */
  emailList: 'ok' | 'no_scope' | 'hang'
  /** How DELETE /applications/{client_id}/grant (revoke the app's grant) behaves. */
  revokeGrant: 'ok' | 'status500' | 'hang'
  /** The access tokens whose grant was revoked, in order. */
  revokedTokens: string[]
  /** Env settings that point handoff at this fake. */
  env: Record<string, string>
  close(): Promise<void>
}

interface IssuedCode { redirectUri: string, challenge?: string, used: boolean }

export async function startFakeGitHub (): Promise<FakeGitHub> {
  // forceCloseConnections: a test that made the fake hang must still be able to close it.
  const app: FastifyInstance = Fastify({ forceCloseConnections: true })
  await app.register(formbody)
  const codes = new Map<string, IssuedCode>()
  const tokens = new Set<string>()
  const hang = () => new Promise<never>(() => {})

  const fake = {
    clientId: 'Iv1.fakeclientid',
    clientSecret: 'fake-client-secret',
    requests: recordRequests(app),
    user: { id: 583231, login: 'octocat', name: 'The Octocat', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4', email: null } as GitHubUser,
    emails: [
      { email: 'octocat@github.com', primary: true, verified: true, visibility: 'public' },
      { email: 'octo@example.com', primary: false, verified: false, visibility: null }
    ] as GitHubEmail[],
    authorize: 'approve' as FakeGitHub['authorize'],
    token: 'ok' as FakeGitHub['token'],
    profile: 'ok' as FakeGitHub['profile'],
    emailList: 'ok' as FakeGitHub['emailList'],
    revokeGrant: 'ok' as FakeGitHub['revokeGrant'],
    revokedTokens: [] as string[]
  }

  app.get('/login/oauth/authorize', async (request, reply) => {
    const query = request.query as Record<string, string>
    if (query.client_id !== fake.clientId) return reply.code(404).type('text/html').send('<h1>404</h1>')
    const back = new URL(query.redirect_uri)
    if (fake.authorize === 'deny') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user has denied your application access.')
      back.searchParams.set('error_uri', 'https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied')
    } else {
      const code = randomBytes(10).toString('hex')
      codes.set(code, { redirectUri: query.redirect_uri, challenge: query.code_challenge, used: false })
      back.searchParams.set('code', code)
    }
    if (query.state !== undefined) back.searchParams.set('state', query.state)
    return reply.redirect(back.toString(), 302)
  })

  app.post('/login/oauth/access_token', async (request, reply) => {
    const body = request.body as Record<string, string>
    const wantsJson = String(request.headers.accept ?? '').includes('application/json')
    const answer = (payload: Record<string, string>) => wantsJson
      ? reply.code(200).send(payload)
      : reply.code(200).type('application/x-www-form-urlencoded; charset=utf-8').send(new URLSearchParams(payload).toString())
    const error = (code: string, description: string) => answer({ error: code, error_description: description, error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors' })

    if (fake.token === 'hang') return hang()
    if (fake.token === 'garbage') return reply.code(200).type('application/json').send('{"access_token": tru')
    if (fake.token === 'status500') return reply.code(500).type('text/html').send('<h1>Server Error</h1>')
    if (body.client_id !== fake.clientId || body.client_secret !== fake.clientSecret) return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.')
    const issued = codes.get(body.code)
    if (fake.token === 'bad_verification_code' || issued === undefined || issued.used) return error('bad_verification_code', 'The code passed is incorrect or expired.')
    issued.used = true
    if (body.redirect_uri !== undefined && body.redirect_uri !== issued.redirectUri) return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.')
    if (issued.challenge !== undefined) {
      const computed = createHash('sha256').update(body.code_verifier ?? '').digest('base64url')
      if (computed !== issued.challenge) return error('bad_verification_code', 'The code passed is incorrect or expired.')
    }
    const token = `gho_${randomBytes(18).toString('hex')}`
    tokens.add(token)
    return answer({ access_token: token, scope: 'read:user,user:email', token_type: 'bearer' })
  })

  const authorizeApi = (headers: Record<string, string | string[] | undefined>): 'ok' | 'forbidden' | 'unauthorized' => {
    if (headers['user-agent'] === undefined || headers['user-agent'] === '') return 'forbidden'
    const match = /^(?:Bearer|token) (\S+)$/i.exec(String(headers.authorization ?? ''))
    return match !== null && tokens.has(match[1]) ? 'ok' : 'unauthorized'
  }
  const denied = (status: 'forbidden' | 'unauthorized') => status === 'forbidden'
    ? { code: 403, body: { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).' } }
    : { code: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } }

  app.get('/api/v3/user', async (request, reply) => {
    if (fake.profile === 'hang') return hang()
    if (fake.profile === 'garbage') return reply.type('application/json').send('<html>oops')
    const status = fake.profile === 'unauthorized' ? 'unauthorized' : authorizeApi(request.headers)
    if (status !== 'ok') return reply.code(denied(status).code).send(denied(status).body)
    return { ...fake.user, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', created_at: '2011-01-25T18:44:36Z' }
  })

  app.get('/api/v3/user/emails', async (request, reply) => {
    if (fake.emailList === 'hang') return hang()
    const status = authorizeApi(request.headers)
    if (status !== 'ok') return reply.code(denied(status).code).send(denied(status).body)
    if (fake.emailList === 'no_scope') return reply.code(404).header('x-accepted-oauth-scopes', 'user, user:email').send({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user', status: '404' })
    return fake.emails
  })

  // REST "Delete an app authorization": HTTP Basic client_id:client_secret, JSON {"access_token"}; 204,
  // 404 for another app's client id, 422 for a token that is not one of this app's.
  app.delete('/api/v3/applications/:clientId/grant', async (request, reply) => {
    if (fake.revokeGrant === 'hang') return hang()
    if (fake.revokeGrant === 'status500') return reply.code(500).send({ message: 'Server Error' })
    const basic = /^Basic (\S+)$/.exec(String(request.headers.authorization ?? ''))
    const [id, secret] = basic === null ? [] : Buffer.from(basic[1], 'base64').toString().split(':')
    const { clientId } = request.params as { clientId: string }
    if (id !== fake.clientId || secret !== fake.clientSecret || clientId !== fake.clientId) return reply.code(404).send({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization', status: '404' })
    const token = (request.body as { access_token?: unknown } | undefined)?.access_token
    if (typeof token !== 'string' || !tokens.has(token)) return reply.code(422).send({ message: 'Validation Failed', errors: [{ resource: 'Application', field: 'access_token', code: 'invalid' }], status: '422' })
    tokens.delete(token)
    fake.revokedTokens.push(token)
    return reply.code(204).send()
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  return Object.assign(fake, {
    webUrl: origin,
    apiUrl: `${origin}/api/v3`,
    env: { GITHUB_CLIENT_ID: fake.clientId, GITHUB_CLIENT_SECRET: fake.clientSecret, GITHUB_WEB_URL: origin, GITHUB_API_URL: `${origin}/api/v3` },
    close: async () => { await app.close() }
  })
}
