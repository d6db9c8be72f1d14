import type { FastifyInstance } from 'fastify'

export interface StoredProfile { provider: string, providerUserId: string, email: string | null, emailVerified: boolean }

/**
 * What the database holds about the identity a login created: its identity row, or, while the
 * person has not picked a nickname yet, the profile the one-time code carries to the signup.
 */
export async function storedProfile (app: FastifyInstance): Promise<StoredProfile | undefined> {
  const identity = await app.handoff.db.prisma.identity.findFirst()
  if (identity !== null) return identity
  const rows = await app.handoff.db.sql.query<{ profile: StoredProfile & { email?: string } }>('SELECT pending_profile AS profile FROM login_codes WHERE pending_profile IS NOT NULL')
  const profile = rows[0]?.profile
  return profile === undefined ? undefined : { ...profile, email: profile.email ?? null }
}
