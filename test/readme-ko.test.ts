import { readFileSync } from 'node:fs'
import t from 'tap'

// README.ko.md covers every section of README.md, keeps every command and code sample identical
// (comments translated), and names every route, code and setting the English tables name.

// Each section of README.md and its Korean title. A section added to README.md fails here until it
// is translated and listed.
const SECTIONS: Record<string, string> = {
  'How it works': '동작 방식',
  'The frontend\'s part': '프론트엔드가 할 일',
  API: 'API',
  'First login and nicknames': '첫 로그인과 닉네임',
  Security: '보안',
  Configuration: '설정',
  'Use it in your own Fastify app': '내 Fastify 앱에서 쓰기',
  Production: '운영 환경',
  'Verify our cookie elsewhere': '다른 서비스에서 쿠키 검증하기',
  Database: '데이터베이스',
  Development: '개발'
}

const read = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8')
const english = read('README.md')
const korean = read('README.ko.md')

interface Block { lang: string, code: string }

/** The document outside fenced code blocks, and the blocks themselves. */
function split (markdown: string): { prose: string, blocks: Block[] } {
  const blocks: Block[] = []
  const prose = markdown.replace(/^```(\w*)\n([\s\S]*?)^```$/gm, (_whole, lang: string, code: string) => { blocks.push({ lang, code }); return '' })
  return { prose, blocks }
}

const headings = (markdown: string) => [...split(markdown).prose.matchAll(/^## (.+)$/gm)].map(match => match[1].trim())

/** Code without its comments (`// …`, `/* … *\/`, and `# …` in shell), the part a reader runs. */
const withoutComments = ({ lang, code }: Block) => code
  .replace(/\/\*[\s\S]*?\*\//g, '')
  .split('\n')
  .map(line => (lang === 'sh' ? line.replace(/(^|\s)#\s.*$/, '') : line.replace(/(^|\s)\/\/\s.*$/, '')).trimEnd())
  .join('\n')

t.test('every section of README.md has its Korean counterpart, in the same order', async t => {
  const sections = headings(english)
  t.ok(sections.length >= 10, `README.md has ${sections.length} sections`)
  for (const section of sections) t.ok(Object.hasOwn(SECTIONS, section), `"${section}" is in this test's table (translate it, then add it)`)
  t.same(headings(korean), sections.map(section => SECTIONS[section] ?? `(missing: ${section})`), 'README.ko.md has the same sections')
})

t.test('commands and code samples are identical; only comments and diagrams are translated', async t => {
  const [en, ko] = [split(english).blocks, split(korean).blocks]
  t.same(ko.map(block => block.lang), en.map(block => block.lang), 'the same code blocks, in the same order')
  en.forEach((block, index) => {
    if (block.lang === 'mermaid' || ko[index] === undefined) return
    t.equal(withoutComments(ko[index]), withoutComments(block), `block ${index + 1} (${block.lang})`)
  })
})

t.test('every route, code and setting of README.md\'s tables is in README.ko.md', async t => {
  const tableRows = split(english).prose.split('\n').filter(line => line.startsWith('|'))
  const names = new Set(tableRows.flatMap(line => [...line.matchAll(/`([^`]+)`/g)].map(match => match[1])))
  t.ok(names.size > 150, `${names.size} names in README.md's tables`)
  const missing = [...names].filter(name => !korean.includes(`\`${name}\``))
  t.same(missing, [], 'none missing from README.ko.md')
})
