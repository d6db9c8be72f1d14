import { Prisma, type PrismaClient } from '../generated/prisma/client.js'
import { isUniqueViolation } from '../db/errors.js'
import type { NormalizedProfile } from '../providers/provider.js'

// Who a provider profile belongs to. A first-time identity gets no user here: it waits for a
// nickname as a pending signup (src/auth/signup.ts).

const identityFields = (profile: NormalizedProfile) => ({
  email: profile.email ?? null,
  emailVerified: profile.emailVerified,
  displayName: profile.name ?? profile.nickname ?? null,
  avatarUrl: profile.avatarUrl ?? null
})

/** The identity a profile is, refreshing what the provider told us about it. */
async function touchIdentity (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<{ id: string, userId: string } | null> {
  const identity = await prisma.identity.findUnique({
    where: { provider_providerUserId: { provider: profile.provider, providerUserId: profile.providerUserId } },
    select: { id: true, userId: true }
  })
  if (identity === null) return null
  await prisma.identity.update({ where: { id: identity.id }, data: { ...identityFields(profile), lastLoginAt: now } })
  return identity
}

/** The user an identity belongs to, refreshing what the provider told us about it. */
export async function findUserByIdentity (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<string | null> {
  return (await touchIdentity(prisma, profile, now))?.userId ?? null
}

/**
 * Links a new identity to the existing user who owns the same email, when both sides say the
 * address is verified. An unverified email never links: anyone could register the victim's address
 * at a lax provider and take over the account.
 *
 * Addresses are compared exactly, with `=` on the generated `email_normalized` columns (trimmed,
 * lower-cased by the database) and the key normalized by the same SQL: never a pattern, where a
 * provider-verified `kimch_99@…` or `%@…` would match someone else's address. An identity's address
 * wins over an account's own, the oldest first.
 */
export async function linkByVerifiedEmail (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<LinkedIdentity | null> {
  if (!profile.emailVerified || profile.email === undefined) return null
  const key = Prisma.sql`lower(btrim(${profile.email}::text, E' \\t\\r\\n'))`
  const owners = await prisma.$queryRaw<Array<{ user_id: string }>>`
    SELECT user_id FROM (
      SELECT user_id, 0 AS source, created_at FROM identities WHERE email_verified AND email_normalized = ${key}
      UNION ALL
      SELECT id, 1, created_at FROM users WHERE email_verified AND email_normalized = ${key}
    ) AS owners
    ORDER BY source, created_at
    LIMIT 1`
  if (owners.length === 0) return null
  return linkIdentity(prisma, owners[0].user_id, profile, now)
}

/** Who owns the identity after linkIdentity, and whether this call created it (only then is it news). */
export interface LinkedIdentity { userId: string, identityId: string, created: boolean }

/** Adds an identity to a user. If another request created it first, returns it with its owner. */
export async function linkIdentity (prisma: PrismaClient, userId: string, profile: NormalizedProfile, now: Date): Promise<LinkedIdentity> {
  try {
    const identity = await prisma.identity.create({
      data: { userId, provider: profile.provider, providerUserId: profile.providerUserId, ...identityFields(profile), lastLoginAt: now },
      select: { id: true }
    })
    return { userId, identityId: identity.id, created: true }
  } catch (error) {
    if (!isUniqueViolation(error)) throw error
    const existing = await touchIdentity(prisma, profile, now)
    if (existing === null) throw error
    return { userId: existing.userId, identityId: existing.id, created: false }
  }
}
