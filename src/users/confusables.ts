// Look-alike letters folded to one prototype, for the reserved-nickname skeleton (nicknames.ts).
//
// Taken from Unicode's confusables.txt (UTS #39 "Unicode Security Mechanisms", version 17.0.0,
// https://www.unicode.org/Public/security/17.0.0/confusables.txt): every line whose source is ASCII
// or a Latin (U+0080–U+02AF), Greek or Cyrillic (U+0370–U+052F) character that NFKC leaves alone, and
// whose prototype is one ASCII letter or digit. NFKC already folds fullwidth, mathematical and other
// compatibility forms, so they need no entry. Prototypes are lower-cased because the skeleton is
// case-insensitive; for the same reason `i` joins the `l` class (the file maps I, 1 and | to l, and
// case folding makes I and i one letter). Escapes, not literals, so a reviewer sees which is which.

const PROTOTYPES: Record<string, string> = {
  2: '\u01A7\u03E8',
  3: '\u021C\u01B7\u0417\u04E0',
  5: '\u01BC',
  6: '\u03EC\u0431',
  8: '\u0223\u0222',
  a: '\u0251\u03B1\u0430\u0391\u0410',
  b: '\u0184\u042C\u0392\u0412',
  c: '\u0441\u0421',
  d: '\u0501',
  e: '\u0435\u04BD\u0395\u0415',
  f: '\u0192\u03DC',
  g: '\u0261\u018D\u050C',
  h: '\u04BB\u0397\u041D',
  j: '\u03F3\u0458\u037F\u0408',
  k: '\u039A\u041A',
  l: 'iI1|\u0131\u026A\u0269\u03B9\u0456\u0196\u01C0\u0399\u0406\u04CF\u04C0',
  m: '\u039C\u03FA\u041C',
  n: '\u039D',
  o: '0\u03BF\u03C3\u03ED\u043E\u039F\u041E',
  p: '\u00FE\u01BF\u03C1\u03F8\u0440\u03A1\u0420',
  q: '\u051B',
  r: '\u0433\u01A6',
  s: '\u01BD\u0455\u0405',
  t: '\u03A4\u0422',
  u: '\u028B\u03C5',
  v: '\u03BD\u0475\u0474',
  w: '\u026F\u0461\u0448\u051D\u051C',
  x: '\u00D7\u0445\u03A7\u0425',
  y: '\u0263\u028F\u03B3\u0443\u04AF\u03A5\u0423\u04AE',
  z: '\u0396'
}

const PROTOTYPE_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(PROTOTYPES).flatMap(([prototype, sources]) => [...sources].map(source => [source, prototype] as [string, string]))
)

/**
 * One character's prototype: its confusables.txt prototype if it has one, else its lower case.
 * The table is consulted first, so a Cyrillic capital such as U+041C (М, an M) folds to `m`, while
 * its lower case U+043C (м) is left as it is: confusables.txt says only the capital looks like M.
 */
export const prototypeOf = (char: string): string => PROTOTYPE_OF.get(char) ?? char.toLowerCase()

/**
 * The multi-letter prototypes of confusables.txt within our alphabet: `d` is drawn as `cl`, `m` as
 * `rn` and `w` as `vv`, so `aclmin` and `adrnin` both read as `admin`.
 */
export const foldLetterPairs = (text: string): string => text.replaceAll('d', 'cl').replaceAll('m', 'rn').replaceAll('w', 'vv')
