/** An error as one line: a stack or a multi-line message would hide the reason in a log. */
export const oneLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
