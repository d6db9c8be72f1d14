import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { LoginErrorCode } from '../../src/errors.js'
import { catalogOf, formatMessage, LANGUAGES, negotiateLanguage, type Catalog } from '../../src/messages/index.js'
import { MessageCatalogSchema } from '../../src/messages/schemas.js'
import { jsonErrorCodes } from '../helpers/error-codes.js'

// The catalog against the sources of truth: a code added to src/errors.ts (or a KOE code mentioned
// anywhere in the code or the docs) without a sentence in every language fails here.

const root = new URL('../../', import.meta.url)
const HANGUL = /[\uAC00-\uD7A3]/
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map(match => match[1]).sort()

/** Every KOE code our code and docs talk about (the catalog itself excluded: it would vouch for itself). */
function mentionedKoeCodes (): string[] {
  const files = [
    ...readdirSync(new URL('src/', root), { recursive: true, encoding: 'utf8' })
      .filter(path => path.endsWith('.ts') && !path.startsWith('messages/') && !path.startsWith('generated/')).map(path => `src/${path}`),
    ...readdirSync(new URL('docs/', root), { recursive: true, encoding: 'utf8' }).filter(path => path.endsWith('.md')).map(path => `docs/${path}`),
    'README.md', 'README.ko.md', '.env.example'
  ]
  const codes = files.flatMap(path => [...readFileSync(new URL(path, root), 'utf8').matchAll(/\bKOE\d{3}\b/g)].map(match => match[0]))
  return [...new Set(codes)].sort()
}

/** The sections of a catalog a code must have a sentence in, with the codes each must cover. */
const required = {
  errors: jsonErrorCodes(),
  login: Object.values(LoginErrorCode) as string[],
  kakao: mentionedKoeCodes()
}

t.test('the sources of truth are found (so the checks below can fail)', async t => {
  t.ok(required.errors.length >= 25, `${required.errors.length} JSON error codes`)
  t.ok(required.errors.includes('unlink_unauthorized') && required.errors.includes('invalid_request'), 'class codes and framework codes')
  t.ok(required.login.includes('provider_consent_missing'))
  t.ok(['KOE006', 'KOE010', 'KOE205'].every(code => required.kakao.includes(code)), `KOE codes: ${required.kakao.join(' ')}`)
})

for (const language of LANGUAGES) {
  t.test(`${language}: every code has a sentence`, async t => {
    const catalog = catalogOf(language)
    for (const [section, codes] of Object.entries(required)) {
      const sentences = catalog[section as keyof typeof required] as Record<string, string>
      for (const code of codes) {
        t.ok(typeof sentences[code] === 'string' && sentences[code].trim().length > 0, `${section}.${code}`)
      }
    }
  })
}

t.test('no sentence for a code that no longer exists', async t => {
  const catalog = catalogOf('en')
  t.same(Object.keys(catalog.errors).sort(), [...required.errors].sort(), 'errors: exactly the JSON error codes')
  t.same(Object.keys(catalog.login).sort(), [...required.login].sort(), 'login: exactly LoginErrorCode')
  for (const code of Object.keys(catalog.kakao)) t.match(code, /^KOE\d{3}$/)
})

/** Every string of a catalog, by its path. */
function entries (value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]]
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => entries(inner, path === '' ? key : `${path}.${key}`))
}

t.test('Korean is Korean, and says the same placeholders as English', async t => {
  const english = new Map(entries(catalogOf('en')))
  const korean = new Map(entries(catalogOf('ko')))
  t.same([...korean.keys()].sort(), [...english.keys()].sort(), 'the same keys')
  for (const [path, text] of korean) {
    if (path === 'listSeparator') continue
    t.match(text, HANGUL, `ko ${path} is written in Korean`)
    t.same(placeholders(text), placeholders(english.get(path) ?? ''), `${path}: the same {placeholders}`)
  }
})

t.test('the KOE explanations name the console menu to change, in Korean', async t => {
  for (const language of LANGUAGES) {
    for (const code of ['KOE004', 'KOE005', 'KOE006', 'KOE007', 'KOE010', 'KOE101', 'KOE205']) {
      t.match(catalogOf(language).kakao[code as keyof Catalog['kakao']], /\[[\uAC00-\uD7A3 A-Z]+\](?: > \[[^\]]+\])*/, `${language} ${code}`)
    }
    t.match(catalogOf(language).kakao.KOE006, /\{callbackUrl\}/, 'KOE006 names the URI to register')
  }
  t.match(catalogOf('ko').kakao.KOE006, /\[앱\] > \[플랫폼 키\] > \[REST API 키\] > \[리다이렉트 URI\]/)
  t.match(catalogOf('ko').kakao.KOE006, /\[내 애플리케이션\] > \[카카오 로그인\] > \[Redirect URI\]/, 'and the older console\'s path')
})

t.test('the documented language list is LANGUAGES', async t => {
  const documented = (MessageCatalogSchema.properties.language as unknown as { anyOf: Array<{ const: string }> }).anyOf.map(entry => entry.const)
  t.same(documented, [...LANGUAGES])
})

t.test('negotiateLanguage: Accept-Language with q-values, tags and wildcards', async t => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'en'],
    ['', 'en'],
    ['ko-KR,ko;q=0.9', 'ko'],
    ['ko', 'ko'],
    ['KO-kr', 'ko'],
    ['en-US', 'en'],
    ['en-US,en;q=0.9,ko;q=0.8', 'en'],
    ['en;q=0.5, ko;q=0.8', 'ko'],
    ['ko;q=0.2, en;q=0.9', 'en'],
    ['fr-FR, fr;q=0.9', 'en'],
    ['fr, ko;q=0.1', 'ko'],
    ['ko;q=0', 'en'],
    ['*', 'en'],
    ['ja, *;q=0.1', 'en'],
    [';;;,,q=x', 'en']
  ]
  for (const [header, expected] of cases) t.equal(negotiateLanguage(header), expected, JSON.stringify(header))
})

t.test('formatMessage fills known placeholders and leaves the others', async t => {
  t.equal(formatMessage('{a} and {b}', { a: 1 }), '1 and {b}')
  t.equal(formatMessage('{constructor}', {}), '{constructor}', 'no prototype lookups')
})
