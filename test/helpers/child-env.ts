/**
 * Settings for every process a test spawns from the sources (`node --import tsx …`): tap's
 * processinfo hook, which reaches them through NODE_OPTIONS whatever `env` says, would record their
 * coverage with tsx's source maps. c8 keeps one source map per file, the last one it reads, so such
 * a child's map can replace the one the in-process runs (tap's TypeScript loader) recorded with,
 * and every file it loaded falls out of the report (a CI run once counted 401 statements of 9,300).
 * Coverage is therefore measured in the test processes only.
 */
export const CHILD_PROCESS_ENV = { _TAPJS_PROCESSINFO_COVERAGE_: '0' } as const
