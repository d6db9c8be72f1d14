import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { startFakeGitHub } from '../fakes/github.js'
import { buildTestApp } from '../helpers/build-app.js'
import { browse, newBrowser, signIn } from '../helpers/login.js'

// Error answers through the real app: `message` in the language Accept-Language prefers (Korean
// first-class, English otherwise), `code` unchanged, and the headers a cache needs.

const github = await startFakeGitHub()
t.teardown(() => github.close())

const KOREAN_INVALID_CODE = '이미 사용됐거나 만료된 로그인 링크예요. 다시 로그인해 주세요.'
const ENGLISH_INVALID_CODE = 'This sign-in link was already used or has expired. Please sign in again.'
const unknownCode = 'A'.repeat(43)

function assertLanguage (t: Test, response: LightMyRequestResponse, language: string) {
  t.equal(response.headers['content-language'], language, `Content-Language: ${language}`)
  t.match(String(response.headers.vary), /(^|, )Accept-Language(,|$)/, 'Vary: Accept-Language')
}

t.test('the same error in Korean, in English, and in English by default; the code never changes', async t => {
  const { app } = await buildTestApp(t)
  const exchange = (acceptLanguage?: string) => app.inject({
    method: 'POST',
    url: '/auth/exchange',
    headers: { 'x-requested-with': 'fetch', ...(acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage }) },
    payload: { code: unknownCode }
  })

  const korean = await exchange('ko-KR,ko;q=0.9')
  t.same(korean.json(), { statusCode: 400, code: 'login_code_invalid', error: 'Bad Request', message: KOREAN_INVALID_CODE })
  assertLanguage(t, korean, 'ko')

  const english = await exchange('en-US')
  t.same(english.json(), { statusCode: 400, code: 'login_code_invalid', error: 'Bad Request', message: ENGLISH_INVALID_CODE })
  assertLanguage(t, english, 'en')

  const unsaid = await exchange()
  t.equal(unsaid.json().message, ENGLISH_INVALID_CODE, 'no Accept-Language: English')
  assertLanguage(t, unsaid, 'en')

  t.equal((await exchange('fr-FR,fr;q=0.9,de;q=0.8')).json().message, ENGLISH_INVALID_CODE, 'a language we do not have: English')
  t.equal((await exchange('ja, ko;q=0.3')).json().message, KOREAN_INVALID_CODE, 'Korean when it is the only acceptable one we have')
})

t.test('q-values decide between Korean and English', async t => {
  const { app } = await buildTestApp(t)
  const message = async (acceptLanguage: string) => (await app.inject({ url: '/nope', headers: { 'accept-language': acceptLanguage } })).json().message
  t.equal(await message('en;q=0.4, ko;q=0.8'), 'GET /nope 경로를 찾을 수 없어요.', 'ko preferred by weight, though listed second')
  t.equal(await message('ko;q=0.4, en;q=0.8'), 'Route GET /nope not found', 'en preferred by weight')
  t.equal(await message('ko;q=0, en;q=0.1'), 'Route GET /nope not found', 'q=0 refuses Korean')
  t.equal(await message('en-GB;q=0.5, ko-KR;q=0.6'), 'GET /nope 경로를 찾을 수 없어요.', 'regional tags count for their language')
})

t.test('messages that carry details keep them in both languages', async t => {
  const { app } = await buildTestApp(t, github.env)
  const ko = { 'accept-language': 'ko' }

  const validation = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { ...ko, 'x-requested-with': 'fetch' }, payload: {} })
  t.equal(validation.json().code, 'invalid_request')
  t.equal(validation.json().message, '요청이 올바르지 않아요: body must have required property \'code\'', 'Korean sentence, Fastify\'s validation detail')
  const english = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { 'x-requested-with': 'fetch' }, payload: {} })
  t.equal(english.json().message, 'The request is invalid: body must have required property \'code\'')

  const badJson = await app.inject({ method: 'POST', url: '/auth/exchange', headers: { ...ko, 'x-requested-with': 'fetch', 'content-type': 'application/json' }, payload: '{"code":' })
  t.match(badJson.json(), { code: 'invalid_request', message: /^요청이 올바르지 않아요: .*JSON/ })

  t.match((await app.inject({ url: '/auth/gitlab/login', headers: ko })).json(), { code: 'provider_not_found', message: '"gitlab" 로그인 방법은 없거나 꺼져 있어요.' })
  t.match((await app.inject({ url: '/auth/gitlab/login' })).json(), { code: 'provider_not_found', message: 'Unknown or disabled provider "gitlab".' })

  const noHeader = await app.inject({ method: 'POST', url: '/auth/logout', headers: ko })
  t.match(noHeader.json(), { code: 'csrf_rejected', message: '이 경로에는 X-Requested-With 헤더가 필요해요.' })
  const foreign = await app.inject({ method: 'POST', url: '/auth/logout', headers: { ...ko, 'x-requested-with': 'fetch', origin: 'https://evil.example' } })
  t.match(foreign.json(), { code: 'csrf_rejected', message: 'https://evil.example에서 보낸 요청은 허용되지 않아요.' })

  const browser = newBrowser()
  await signIn(app, browser)
  const rename = (nickname: string, acceptLanguage?: string) => browse(app, browser, '/users/me', { method: 'PATCH', payload: { nickname }, headers: { 'accept-language': acceptLanguage } })
  t.match((await rename('1234', 'ko-KR')).json(), { code: 'nickname_invalid', message: '숫자로만 된 닉네임은 쓸 수 없어요.' }, 'which nickname rule, in Korean')
  t.match((await rename('1234')).json(), { code: 'nickname_invalid', message: 'A nickname cannot be only digits.' })
  t.match((await rename('a', 'ko')).json(), { code: 'nickname_invalid', message: '닉네임은 2자에서 20자 사이여야 해요.' })
  t.match((await rename('관리자', 'ko')).json(), { code: 'nickname_reserved', message: '예약된 닉네임이거나 예약된 닉네임과 너무 비슷해요.' })
})

t.test('the nickname check answers in the reader\'s language', async t => {
  const { app } = await buildTestApp(t)
  const check = (nickname: string, acceptLanguage?: string) =>
    app.inject({ url: '/auth/nickname/availability', query: { nickname }, headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage } })
  const free = await check('새닉네임', 'ko-KR,ko;q=0.9,en;q=0.8')
  t.same(free.json(), { nickname: '새닉네임', available: true, message: '사용할 수 있는 닉네임이에요.' })
  assertLanguage(t, free, 'ko')
  t.match((await check('a_b!', 'ko')).json(), { available: false, reason: 'invalid', message: '한글, 영문, 숫자, "_", "."만 쓸 수 있어요.' })
  t.match((await check('admin', 'ko')).json(), { available: false, reason: 'reserved', message: /^예약된 닉네임/ })
  const english = await check('새닉네임', 'en-US')
  t.equal(english.json().message, 'This nickname is available.')
  assertLanguage(t, english, 'en')
})

t.test('rate limits say when to retry, in Korean', async t => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_NICKNAME_PER_MINUTE: '1' })
  const check = () => app.inject({ url: '/auth/nickname/availability?nickname=somebody', headers: { 'accept-language': 'ko' } })
  t.equal((await check()).statusCode, 200)
  const limited = await check()
  t.equal(limited.statusCode, 429)
  t.match(limited.json(), { code: 'rate_limited', message: /^시도가 너무 많아요\. \d+초 뒤에 다시 시도해 주세요\.$/ })
  t.equal(limited.json().message.match(/\d+/)?.[0], String(limited.headers['retry-after']), 'the same seconds as Retry-After')
  assertLanguage(t, limited, 'ko')
})

t.test('a router refusal (path parameter too long) is worded too', async t => {
  const { app } = await buildTestApp(t)
  const long = await app.inject({ url: `/auth/${'x'.repeat(200)}/login`, headers: { 'accept-language': 'ko' } })
  t.equal(long.statusCode, 414)
  t.same(long.json(), { statusCode: 414, code: 'invalid_request', error: 'URI Too Long', message: '경로 매개변수가 너무 길어요.' })
  assertLanguage(t, long, 'ko')
})
