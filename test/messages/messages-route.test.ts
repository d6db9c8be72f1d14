import t from 'tap'
import { LoginErrorCode } from '../../src/errors.js'
import { buildTestApp, PUBLIC_URL } from '../helpers/build-app.js'
import { jsonErrorCodes } from '../helpers/error-codes.js'

// GET /auth/messages: the catalog a frontend uses to word `error=` codes in the person's language.

t.test('lang= chooses the language, over Accept-Language; anything unknown is English', async t => {
  const { app } = await buildTestApp(t)
  const get = (query: string, acceptLanguage?: string) =>
    app.inject({ url: `/auth/messages${query}`, headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage } })

  const korean = await get('?lang=ko', 'en-US')
  t.equal(korean.statusCode, 200)
  t.equal(korean.json().language, 'ko', 'lang=ko wins over Accept-Language: en-US')
  t.equal(korean.json().login.access_denied, '로그인 화면에서 취소하셨어요. 아무 정보도 공유되지 않았고, 언제든 다시 시도할 수 있어요.')
  t.equal(korean.headers['content-language'], 'ko')
  t.notMatch(String(korean.headers.vary), /Accept-Language/, 'with lang=, the answer does not depend on the header')

  t.equal((await get('?lang=en', 'ko-KR,ko;q=0.9')).json().language, 'en', 'lang=en wins over a Korean browser')
  t.equal((await get('?lang=ko-KR')).json().language, 'ko', 'a regional tag')
  t.equal((await get('?lang=fr')).json().language, 'en', 'unknown: English')
  t.equal((await get('?lang=')).json().language, 'en', 'empty: English')

  const byHeader = await get('', 'ko-KR,ko;q=0.9,en-US;q=0.8')
  t.equal(byHeader.json().language, 'ko', 'no lang=: Accept-Language')
  t.match(String(byHeader.headers.vary), /Accept-Language/, 'Vary: Accept-Language')
  t.equal((await get('', 'ko;q=0.3, en;q=0.7')).json().language, 'en', 'q-values')
  t.equal((await get('')).json().language, 'en', 'nothing said: English')
  t.equal((await get('?lang=' + 'k'.repeat(65))).statusCode, 400, 'an absurd lang= is a 400, not a crash')
})

t.test('every code a frontend can receive, in both languages, with the KOE codes filled in for this server', async t => {
  const { app } = await buildTestApp(t)
  for (const lang of ['en', 'ko']) {
    const catalog = (await app.inject(`/auth/messages?lang=${lang}`)).json()
    t.same(Object.keys(catalog.login).sort(), Object.values(LoginErrorCode).sort(), `${lang}: every error= code`)
    t.same(Object.keys(catalog.errors).sort(), jsonErrorCodes().sort(), `${lang}: every JSON error code`)
    t.same(Object.keys(catalog.fields).sort(), ['avatar', 'email', 'name', 'nickname'], `${lang}: every field missing= can name`)
    t.match(catalog.providerCodes.kakao.KOE006, `${PUBLIC_URL}/auth/kakao/callback`, `${lang}: KOE006 names this server's callback`)
    t.notMatch(JSON.stringify(catalog.providerCodes), '{callbackUrl}', 'no placeholder left for the server to fill')
  }
  const ko = (await app.inject('/auth/messages?lang=ko')).json()
  t.match(ko.providerCodes.kakao.KOE010, /\[앱\] > \[플랫폼 키\] > \[REST API 키\] > \[클라이언트 시크릿\]/, 'the console menu, in Korean')
  t.match(ko.login.provider_consent_missing, '{missing}', 'the frontend fills {missing} from missing= and fields')
})

t.test('cacheable: public, an ETag per language, 304 when it has not changed', async t => {
  const { app } = await buildTestApp(t)
  const first = await app.inject({ url: '/auth/messages', headers: { 'accept-language': 'ko' } })
  t.equal(first.headers['cache-control'], 'public, max-age=3600', 'the same for everyone, unlike the rest of /auth (no-store)')
  const etag = String(first.headers.etag)
  t.match(etag, /^"ko-[\w-]+"$/)
  t.not((await app.inject('/auth/messages?lang=en')).headers.etag, etag, 'English has its own tag')

  const again = await app.inject({ url: '/auth/messages', headers: { 'accept-language': 'ko', 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '', 'no body')
  t.equal(again.headers.etag, etag)
  t.equal((await app.inject({ url: '/auth/messages', headers: { 'accept-language': 'ko', 'if-none-match': `"x", W/${etag}` } })).statusCode, 304, 'a weak tag in a list matches')
  t.equal((await app.inject({ url: '/auth/messages', headers: { 'accept-language': 'en', 'if-none-match': etag } })).statusCode, 200, 'another language: the full catalog')
})
