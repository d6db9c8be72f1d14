// PostgreSQL's error codes, as both drivers and Prisma report them. Prisma reports a unique
// violation as P2002 through adapter-pg, but as a DriverAdapterError whose cause carries 23505
// through the PGlite adapter (built against an older Prisma); node-postgres and PGlite put the
// code and the constraint on the error itself.

interface DatabaseFailure { code?: string, constraint?: string, message?: string, cause?: { code?: string } }

/** A unique index refused the row; with `constraint`, that index in particular. */
export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const failure = error as DatabaseFailure
  if (failure.code === 'P2002' || failure.cause?.code === '23505') return constraint === undefined
  return failure.code === '23505' && (constraint === undefined || failure.constraint === constraint || (failure.message ?? '').includes(constraint))
}

/** A row referencing one that is gone: here, a session for an account deleted while the request ran. */
export function isForeignKeyViolation (error: unknown, constraint: string): boolean {
  const failure = error as DatabaseFailure
  return failure.code === '23503' && failure.constraint === constraint
}
