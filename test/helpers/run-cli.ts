import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CHILD_PROCESS_ENV } from './child-env.js'

// `handoff <args>` as a process, from the sources (tsx), in a directory of the test's (where a .env
// would be read), with only the settings given: the checkout's own .env and environment stay out.

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')

export interface CliResult { code: number, stdout: string, stderr: string }

export function runCli (args: string[], { env = {}, cwd }: { env?: Record<string, string>, cwd: string }): Promise<CliResult> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', tsx, main, ...args], { cwd, env: { PATH: process.env.PATH, ...CHILD_PROCESS_ENV, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}
