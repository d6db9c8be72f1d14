import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Config, KakaoConfig } from '../config.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import { readKakaoUnlink } from '../providers/kakao-account.js'
import { readNaverUnlink } from '../providers/naver-account.js'
import { ErrorRef } from '../schemas/common.js'
import { unlinkIdentityByProvider } from '../users/provider-unlink.js'

// The providers' unlink webhooks (연결 끊기 알림): their servers tell us that a person disconnected
// our app on their side (or left the provider). We check the call, then remove that identity as
// src/users/provider-unlink.ts does (sessions it opened end; ON_LAST_IDENTITY_UNLINKED decides for
// an account left without a way to sign in) and answer at once: Kakao gives us 3 seconds, Naver
// never retries. Only database work runs here; nothing calls the provider back. An unknown or
// already removed identity (a replay, a user who never finished signing up) answers success too:
// the provider can do nothing about it. No rate limit: callers are the providers' few servers,
// which a per-address limit would cut off during a wave of withdrawals, and a forger is stopped by
// the admin key or the signature, not by a count.

const KakaoUnlinkSchema = Type.Object({
  app_id: Type.Optional(Type.String({ maxLength: 20, description: 'The app id (KAKAO_APP_ID)' })),
  user_id: Type.Optional(Type.String({ maxLength: 20, description: 'The Kakao user id (회원번호)' })),
  referrer_type: Type.Optional(Type.String({ maxLength: 64, description: 'Why: `ACCOUNT_DELETE`, `FORCED_ACCOUNT_DELETE`, `UNLINK_FROM_APPS`, `UNLINK_FROM_ADMIN`, `INCOMPLETE_SIGN_UP`' })),
  group_user_token: Type.Optional(Type.String({ description: 'Group apps only; unused' }))
})

const NaverUnlinkSchema = Type.Object({
  clientId: Type.Optional(Type.String({ maxLength: 100 })),
  encryptUniqueId: Type.Optional(Type.String({ maxLength: 512, description: 'base64url(IV ‖ AES-128-CBC(user id)), keyed with MD5(NAVER_CLIENT_SECRET)' })),
  timestamp: Type.Optional(Type.String({ maxLength: 20, description: 'Unix seconds' })),
  signature: Type.Optional(Type.String({ maxLength: 100, description: 'base64url(HMAC-SHA256(MD5(NAVER_CLIENT_SECRET), `clientId=…&encryptUniqueId=…&timestamp=…`))' }))
})

const kakaoDescription = 'Kakao\'s unlink webhook (연결 해제 웹훅; register `PUBLIC_URL/auth/kakao/unlink` with either method under [앱] > [웹훅]). ' +
  'Needs `Authorization: KakaoAK <KAKAO_ADMIN_KEY>` (else 401 `unlink_unauthorized`, nothing changed), then `app_id`, `user_id` and `referrer_type` (else 400 `unlink_request_invalid`), then `app_id` = KAKAO_APP_ID (401). ' +
  'Removes that Kakao identity and ends the sessions it opened; an account left without a way to sign in is deleted or kept signed out (ON_LAST_IDENTITY_UNLINKED). 200 with an empty body, also for an unknown or already removed user. Only registered with KAKAO_ADMIN_KEY.'
const naverDescription = 'Naver\'s unlink webhook (연결 끊기 알림; register `PUBLIC_URL/auth/naver/unlink` as the 연결끊기 Callback URL). ' +
  'A form body (the parameters in the query string are read too, as in Naver\'s sample). 401 `unlink_unauthorized` for another `clientId`, a signature that does not match or a `timestamp` more than NAVER_UNLINK_WINDOW_SECONDS from our clock; ' +
  '400 `unlink_request_invalid` for a missing field or an `encryptUniqueId` that does not decrypt. Removes that Naver identity as the Kakao webhook does; 204, also for an unknown or already removed user.'

export const unlinkWebhookRoutes: FastifyPluginAsyncTypebox<{ config: Config, hooks: HandoffHooks }> = async (app, { config, hooks }) => {
  // Both providers send forms; this scope parses them itself (the dev login's parser is in its own scope).
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody, { bodyLimit: 4096 })

  /** A refused call is worth a warning: a wrong KAKAO_ADMIN_KEY or NAVER_CLIENT_SECRET here would refuse every real one. */
  const refused = (provider: string) => async (request: FastifyRequest, _reply: unknown, error: FastifyError) => {
    if (/^UNLINK_/.test(error.code)) request.log.warn({ provider, reason: error.message }, `${provider} unlink webhook refused`)
  }

  const unlink = async (request: FastifyRequest, provider: string, providerUserId: string, reason: string) => {
    const result = await unlinkIdentityByProvider(app, hooks, request, { provider, providerUserId }, reason)
    request.log.info({ provider, reason, status: result.status, userId: result.userId, accountDeleted: result.accountDeleted }, `${provider} unlink webhook: ${result.status === 'unlinked' ? 'identity removed' : 'no such identity, nothing to do'}`)
  }

  const kakao = config.kakao
  if (kakao?.adminKey !== undefined && kakao.appId !== undefined) {
    const checked = kakao as KakaoConfig & { adminKey: string, appId: string }
    const handle = async (request: FastifyRequest, params: Record<string, unknown>) => {
      const { userId, referrerType } = readKakaoUnlink(checked, request.headers.authorization, params)
      await unlink(request, 'kakao', userId, referrerType)
    }
    const common = { tags: ['webhooks'], description: kakaoDescription, response: { 200: { type: 'null', description: 'Done (also for an unknown user); Kakao ignores the body' }, 400: ErrorRef, 401: ErrorRef } }
    app.get('/kakao/unlink', {
      schema: { ...common, operationId: 'receiveKakaoUnlink', summary: 'Kakao\'s unlink webhook (GET: query string)', querystring: KakaoUnlinkSchema },
      onError: refused('kakao')
    }, async (request, reply) => {
      await handle(request, request.query)
      return reply.code(200).send()
    })
    app.post('/kakao/unlink', {
      schema: { ...common, operationId: 'receiveKakaoUnlinkForm', summary: 'Kakao\'s unlink webhook (POST: form body)', body: KakaoUnlinkSchema },
      onError: refused('kakao')
    }, async (request, reply) => {
      await handle(request, request.body)
      return reply.code(200).send()
    })
  }

  const naver = config.naver
  if (naver !== undefined) {
    app.post('/naver/unlink', {
      schema: {
        tags: ['webhooks'],
        operationId: 'receiveNaverUnlink',
        summary: 'Naver\'s unlink webhook',
        description: naverDescription,
        querystring: NaverUnlinkSchema,
        body: NaverUnlinkSchema,
        response: { 204: { type: 'null', description: 'Done (also for an unknown user)' }, 400: ErrorRef, 401: ErrorRef }
      },
      onError: refused('naver')
    }, async (request, reply) => {
      // The guide documents a form body and shows the parameters in the query string: a body value wins.
      const params = { ...request.query, ...request.body }
      const providerUserId = readNaverUnlink(naver, params, app.handoff.clock.now())
      // A signed call stays valid for the whole window: replayed after the person came back (signed
      // in again, which a new consent at Naver allows), it would remove the identity they just
      // re-linked. Naver signs when the unlink happened: a sign-in after that wins, as for Apple's events.
      const unlinkedAt = new Date(Number(params.timestamp) * 1000)
      const [identity] = await app.handoff.db.sql.query<{ last_login_at: Date }>('SELECT last_login_at FROM identities WHERE provider = $1 AND provider_user_id = $2', ['naver', providerUserId])
      if (identity !== undefined && new Date(identity.last_login_at) > unlinkedAt) {
        request.log.info({ provider: 'naver' }, 'provider unlink: the identity signed in after the unlink was signed; nothing changed')
        return reply.code(204).send(null)
      }
      await unlink(request, 'naver', providerUserId, 'NAVER_UNLINK')
      return reply.code(204).send(null)
    })
  }
}
