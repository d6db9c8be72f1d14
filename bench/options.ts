import { DEFAULT_SERVER_URL } from './postgres.js'

// Every knob of `npm run bench`, from the environment. The defaults finish in about five minutes
// on two cores; the issue's own figures were 3 rounds of 10 s (BENCH_DURATION=10).

export interface BenchOptions {
  durationSeconds: number
  warmupSeconds: number
  rounds: number
  connections: number
  /** PostgreSQL server for the throwaway database; `none` runs the embedded database only. */
  databaseServerUrl: string | null
  /** Comma-separated case ids or prefixes (e.g. `me,ref-`) to run a subset while developing. */
  only: string[]
  skipStartup: boolean
}

const positive = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return value
}

export function readOptions (): BenchOptions {
  const server = process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL
  return {
    durationSeconds: positive('BENCH_DURATION', 5),
    warmupSeconds: positive('BENCH_WARMUP', 1),
    rounds: Math.round(positive('BENCH_ROUNDS', 3)),
    connections: Math.round(positive('BENCH_CONNECTIONS', 50)),
    databaseServerUrl: server === 'none' ? null : server,
    only: (process.env.BENCH_ONLY ?? '').split(',').map(part => part.trim()).filter(Boolean),
    skipStartup: process.env.BENCH_STARTUP === '0'
  }
}
