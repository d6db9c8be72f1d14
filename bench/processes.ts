import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { buildDir } from './build.js'
import type { LoadResult, LoadSpec, ServerCommand, ServerReady, ServerReply, ServerSpec } from './protocol.js'

// Children of the orchestrator: one process per server under test, one per autocannon run. They
// run the compiled build (bench/build.ts) under plain `node`, so the pid is the server itself.

const compiled = (file: string) => path.join(buildDir, 'bench', file)
const verbose = process.env.BENCH_VERBOSE === '1'
// BENCH_CPU_PROF=dir: every server writes a V8 CPU profile there when it exits (bench/profile-top.ts reads it).
const profileDir = process.env.BENCH_CPU_PROF
const children = new Set<ChildProcess>()

function forkCompiled (file: string, env: Record<string, string> = {}, profile = false): ChildProcess {
  const child = fork(compiled(file), [], {
    execArgv: profile && profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    env: { ...process.env, ...env },
    // Request logs go nowhere unless asked for; errors still show.
    stdio: [verbose ? 'inherit' : 'ignore', verbose ? 'inherit' : 'ignore', 'inherit', 'ipc']
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kills whatever child is left (on an error or Ctrl-C): the bench never leaves a server behind. */
export function killChildren (): void {
  for (const child of children) child.kill('SIGKILL')
}

/** A command before its id is assigned (Omit does not distribute over a union by itself). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never

export interface ServerProcess extends ServerReady {
  pid: number
  command<T extends ServerReply['type']>(command: WithoutId<ServerCommand>): Promise<Extract<ServerReply, { type: T }>>
  stop(): Promise<void>
}

export function startServer (spec: ServerSpec): Promise<ServerProcess> {
  const child = forkCompiled('./server.js', { BENCH_SERVER_SPEC: JSON.stringify(spec) }, true)
  let nextId = 1
  const pending = new Map<number, { resolve(reply: ServerReply): void, reject(error: Error): void }>()
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))

  return new Promise((resolve, reject) => {
    child.once('exit', code => {
      const error = new Error(`the ${spec.kind} server exited (${code})`)
      reject(error)
      for (const waiter of pending.values()) waiter.reject(error)
    })
    child.on('message', (message: ServerReply | ServerReady) => {
      if (message.type === 'ready') {
        resolve({
          ...message,
          pid: child.pid as number,
          command: (command) => new Promise((resolve, reject) => {
            const id = nextId++
            pending.set(id, { resolve: resolve as (reply: ServerReply) => void, reject })
            child.send({ ...command, id })
          }),
          async stop () {
            if (child.exitCode === null) child.send({ type: 'close', id: nextId++ })
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
            await exited
            clearTimeout(timer)
          }
        })
        return
      }
      const waiter = pending.get(message.id)
      pending.delete(message.id)
      if (message.type === 'error') waiter?.reject(new Error(message.message))
      else waiter?.resolve(message)
    })
  })
}

/** One autocannon run in a process of its own. */
export function runLoad (spec: LoadSpec): Promise<LoadResult> {
  const child = forkCompiled('./load.js')
  return new Promise((resolve, reject) => {
    child.once('message', result => resolve(result as LoadResult))
    child.once('exit', code => reject(new Error(`autocannon exited (${code}) without a result`)))
    child.send(spec)
  })
}
