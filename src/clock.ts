/** Where handoff reads the time: tests move it forward instead of sleeping. */
export interface Clock { now(): Date }

/** The moment `seconds` after `now`: when a code, token or session made at `now` expires. */
export const secondsAfter = (now: Date, seconds: number): Date => new Date(now.getTime() + seconds * 1000)
