import t from 'tap'
import { checkNickname, isReservedNickname, nicknameKey, nicknameSkeleton, normalizeNickname, RESERVED_NICKNAMES, suggestNickname } from '../../src/users/nicknames.js'

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
      if (check.reason === 'invalid') t.match(check.wording.key, /^nickname_/, 'naming the rule it breaks')
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

t.test('look-alikes of a reserved name are reserved, whatever else is wrong with them', async t => {
  const cases: Array<[string, string]> = [
    ['admin.', 'a trailing separator'],
    ['_admin', 'a leading separator'],
    ['ad_min', 'a separator inside'],
    ['a-d-m-i-n', 'hyphens'],
    ['a d m i n', 'spaces'],
    ['ad\u200Bmin', 'a zero-width space'],
    ['ad\u00ADmin', 'a soft hyphen'],
    ['\u0410dmin', 'Cyrillic capital A (U+0410)'],
    ['\u0430dm\u0456n', 'Cyrillic small a and i'],
    ['\u0391DMIN', 'Greek capital alpha'],
    ['ADMIN', 'upper case'],
    ['ＡＤＭＩＮ', 'fullwidth forms'],
    ['𝐚𝐝𝐦𝐢𝐧', 'mathematical bold'],
    ['adm1n', 'the digit one for i'],
    ['admln', 'l for i'],
    ['adm|n', 'a vertical line for i'],
    ['adrnin', 'rn for m'],
    ['aclmin', 'cl for d'],
    ['aclrnin', 'cl for d and rn for m'],
    ['àdmin', 'a combining accent'],
    ['r00t', 'zeros for o'],
    ['ROOT', 'upper case'],
    ['\u0455y\u0455tem', 'Cyrillic dze for s'],
    ['운영_자', 'Hangul with a separator'],
    ['운 영 자', 'Hangul with spaces'],
    ['\u110B\u116E\u11AB\u110B\u1167\u11BC\u110C\u1161', 'Hangul as conjoining jamo'],
    ['관리자\u3164', 'a Hangul filler'],
    ['관\u200D리자', 'a zero-width joiner']
  ]
  for (const [input, why] of cases) {
    const check = checkNickname(input)
    t.notOk(check.valid, `${JSON.stringify(input)} is refused (${why})`)
    t.equal(check.valid === false && check.reason, 'reserved', `${JSON.stringify(input)}: reserved, not only invalid (${why})`)
  }
})

t.test('only an exact skeleton match is reserved: names that merely contain one stay valid', async t => {
  for (const name of ['administrator_kim', 'adminkim', 'admiral', 'mod_kim', 'modern', 'rooted', 'kim.admin', '홍길동', 'octo.cat', '운영자님', 'sysadmin', 'mel', 'ml', '5upport']) {
    t.ok(checkNickname(name).valid, `${name} is valid`)
  }
})

t.test('the skeleton: NFKC, case fold, confusables to their prototype, separators and invisibles dropped', async t => {
  const cases: Array<[string, string]> = [
    ['Admin', nicknameSkeleton('admin')],
    ['\u0410dmin', nicknameSkeleton('admin')],
    ['ａｄｍｉｎ', nicknameSkeleton('admin')],
    ['a.d_m-i n', nicknameSkeleton('admin')],
    ['OCTO.cat', 'octocat'],
    ['r00t', 'root'],
    ['운영_자', '운영자'],
    ['\u1112\u1169\u11BC', '홍']
  ]
  for (const [input, skeleton] of cases) t.equal(nicknameSkeleton(input), skeleton, `${JSON.stringify(input)} → ${skeleton}`)
  t.not(nicknameSkeleton('admin'), nicknameSkeleton('admln_kim'))
  t.ok(isReservedNickname('Аdmin'))
  t.notOk(isReservedNickname('adminkim'))
})

t.test('every reserved name is reserved through its skeleton, and no suggestion is ever reserved', async t => {
  for (const name of RESERVED_NICKNAMES) {
    t.ok(isReservedNickname(name), `${name}`)
    t.ok(isReservedNickname(`_${name.toUpperCase()}.`), `_${name.toUpperCase()}.`)
  }
  for (const source of ['adm1n', 'ad-min', 'Аdmin', 'r00t', '운영_자', 'ADMIN.']) {
    const suggestion = suggestNickname(source)
    t.ok(checkNickname(suggestion).valid, `${JSON.stringify(source)} → ${suggestion}, valid`)
    t.ok(checkNickname(suggestNickname(source, '_1234')).valid, `${JSON.stringify(source)} with a suffix, valid`)
  }
  t.equal(suggestNickname('administrator._._._.x'), 'useradministrator._.', 'clamping that leaves a reserved name is caught')
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
