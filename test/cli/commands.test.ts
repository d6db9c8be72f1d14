import { readFile } from 'node:fs/promises'
import t from 'tap'
import { newKeySettings } from '../../src/cli/keygen.js'
import { JWT_ALGORITHMS, loadConfig } from '../../src/config.js'
import { parsePrivateKeys } from '../../src/sessions/signing-keys.js'
import { runCli } from '../helpers/run-cli.js'

const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
const cwd = t.testdir({})

/** A .env file's lines as settings (comments skipped), as the server reads them. */
const settingsOf = (lines: string[]) => Object.fromEntries(lines.filter(line => !line.startsWith('#')).map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
const production = { NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com' }

t.test('--help and --version print and exit 0', async t => {
  const help = await runCli(['--help'], { cwd })
  t.equal(help.code, 0)
  for (const command of ['migrate', 'check', 'keygen']) t.match(help.stdout, new RegExp(`^  ${command}`, 'm'), `help lists ${command}`)
  t.equal(help.stderr, '')
  const printed = await runCli(['-v'], { cwd })
  t.same(printed, { code: 0, stdout: `${version}\n`, stderr: '' })
})

t.test('an unknown command or option: one line on stderr, exit 1', async t => {
  for (const args of [['serve'], ['--port', '3000'], ['migrate', 'now'], ['check', '--alg', 'HS256']]) {
    const { code, stdout, stderr } = await runCli(args, { cwd })
    t.equal(code, 1, args.join(' '))
    t.equal(stdout, '')
    t.match(stderr, /^handoff: [^\n]+\n$/, `one line for ${args.join(' ')}: ${stderr}`)
  }
})

t.test('keygen prints settings the server accepts in production, a new key each time', async t => {
  for (const algorithm of JWT_ALGORITHMS) {
    const first = settingsOf(newKeySettings(algorithm))
    const config = loadConfig({ ...production, ...first })
    t.equal(config.jwtAlgorithm, algorithm)
    if (algorithm === 'HS256') t.equal(config.jwtSecret, first.JWT_SECRET, 'HS256: a JWT_SECRET strong enough for production')
    else t.equal(parsePrivateKeys(config.jwtPrivateKeys ?? '', algorithm).length, 1, `${algorithm}: one key in JWT_PRIVATE_KEYS`)
    t.not(JSON.stringify(settingsOf(newKeySettings(algorithm))), JSON.stringify(first), 'another key the next time')
  }
})

t.test('handoff keygen --alg: the lines to append to .env; a bad algorithm is one line', async t => {
  const { code, stdout } = await runCli(['keygen', '--alg', 'ES256'], { cwd })
  t.equal(code, 0)
  const lines = stdout.trim().split('\n')
  const config = loadConfig({ ...production, ...settingsOf(lines) })
  t.equal(config.jwtAlgorithm, 'ES256')
  t.match(lines[0], `# ES256 key ${parsePrivateKeys(config.jwtPrivateKeys ?? '', 'ES256')[0].kid}`, 'a comment names the key id the JWKS will publish')
  t.match((await runCli(['keygen'], { cwd })).stdout, /^JWT_SECRET=[\w-]{43}\n$/, 'HS256 by default')
  const bad = await runCli(['keygen', '--alg', 'RS256'], { cwd })
  t.equal(bad.code, 1)
  t.equal(bad.stderr, 'handoff: --alg must be one of HS256, ES256, EdDSA, not "RS256"\n')
})
