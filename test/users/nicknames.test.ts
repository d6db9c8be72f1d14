import t from 'tap'
import { checkNickname, nicknameKey, normalizeNickname, RESERVED_NICKNAMES, suggestNickname } from '../../src/users/nicknames.js'

const NFD_HONG = '\u1112\u1169\u11BC'  // 홍 as three conjoining jamo
const NFC_HONG = '홍'

t.test('valid nicknames', async t => {
  const cases: Array<[string, string]> = [
    ['홍길동', '홍길동'],
    ['octo.cat', 'octo.cat'],
    ['under_score', 'under_score'],
    ['Kim123', 'Kim123'],
    ['ab', 'ab'],
    ['a'.repeat(20), 'a'.repeat(20)],
    ['  trimmed  ', 'trimmed'],
    [`${NFD_HONG}길동`, '홍길동'],
    ['한글abc_1.2', '한글abc_1.2'],
    ['007bond', '007bond']
  ]
  for (const [input, stored] of cases) {
    const check = checkNickname(input)
    t.ok(check.valid, `${JSON.stringify(input)} is valid`)
    t.equal(check.nickname, stored, `${JSON.stringify(input)} is stored as ${stored}`)
  }
})

t.test('invalid nicknames, with a message a UI can show', async t => {
  const cases: Array<[string, 'invalid' | 'reserved']> = [
    ['a', 'invalid'],
    ['', 'invalid'],
    ['   ', 'invalid'],
    ['a'.repeat(21), 'invalid'],
    ['12345', 'invalid'],
    ['has space', 'invalid'],
    ['hyphen-ated', 'invalid'],
    ['emoji😀', 'invalid'],
    ['ㅎㅎㅎ', 'invalid'],
    ['naïve', 'invalid'],
    ['<script>', 'invalid'],
    ['admin', 'reserved'],
    ['ADMIN', 'reserved'],
    ['Root', 'reserved'],
    ['system', 'reserved'],
    ['support', 'reserved'],
    ['운영자', 'reserved'],
    ['관리자', 'reserved']
  ]
  for (const [input, reason] of cases) {
    const check = checkNickname(input)
    t.notOk(check.valid, `${JSON.stringify(input)} is refused`)
    if (!check.valid) {
      t.equal(check.reason, reason, `${JSON.stringify(input)}: ${reason}`)
      t.ok(check.message.length > 10, 'with a message')
    }
  }
})

t.test('length counts characters, not UTF-16 units or bytes', async t => {
  t.ok(checkNickname('가'.repeat(20)).valid, '20 Hangul syllables')
  t.notOk(checkNickname('가'.repeat(21)).valid)
  t.ok(checkNickname(`${NFD_HONG}${NFD_HONG}`).valid, 'two NFD syllables count as two characters')
})

t.test('the folded key: NFC, then lower case', async t => {
  t.equal(nicknameKey('OctoCat'), 'octocat')
  t.equal(nicknameKey(`${NFD_HONG}길동`), nicknameKey('홍길동'))
  t.equal(normalizeNickname(NFD_HONG), NFC_HONG)
  t.not(nicknameKey('octocat'), nicknameKey('octocat_'))
})

t.test('the reserved list is folded', async t => {
  for (const name of RESERVED_NICKNAMES) t.equal(name, nicknameKey(name), `${name} is stored folded`)
})

t.test('suggestions are always valid', async t => {
  const cases: Array<[string | undefined, string]> = [
    ['octocat', 'octocat'],
    ['The Octocat', 'The_Octocat'],
    ['mona-lisa', 'mona_lisa'],
    ['홍길동', '홍길동'],
    ['12345', 'user12345'],
    ['admin', 'useradmin'],
    [undefined, 'user'],
    ['x', 'x_user'],
    ['😀😀', 'user'],
    ['a-very-long-github-login-name', 'a_very_long_github_l']
  ]
  for (const [source, expected] of cases) {
    const suggestion = suggestNickname(source)
    t.equal(suggestion, expected, `${JSON.stringify(source)} → ${expected}`)
    t.ok(checkNickname(suggestion).valid, `${suggestion} is valid`)
  }
  const suffixed = suggestNickname('a'.repeat(30), '_1234')
  t.equal(suffixed.length, 20)
  t.ok(suffixed.endsWith('_1234'))
})
