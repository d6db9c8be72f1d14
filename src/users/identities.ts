import type { Sql } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { identityAmbiguous, IdentityNotFoundError, LastIdentityError } from '../errors.js'
import { Prisma, type PrismaClient } from '../generated/prisma/client.js'
import type { IdentityRef } from '../lifecycle-hooks.js'
import type { GrantRevocationQueue } from '../providers/grant-revocations.js'
import type { NormalizedProfile } from '../providers/provider.js'

// An account's identities (its ways to sign in): who a provider profile belongs to, linking one,
// unlinking one. A first-time identity gets no user here: it waits for a nickname as a pending
// signup (src/auth/signup.ts), and create-user.ts creates both.

const identityFields = (profile: NormalizedProfile) => ({
  email: profile.email ?? null,
  emailVerified: profile.emailVerified,
  // Undefined leaves the stored name: Apple sends the name on the first authorization only, and a
  // later login without one says nothing about it.
  displayName: profile.name ?? profile.nickname ?? undefined,
  avatarUrl: profile.avatarUrl ?? null
})

/** The identity a profile is (its id and user), refreshing what the provider told us about it; null if there is none (or it was removed meanwhile). */
export async function touchIdentity (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<{ id: string, userId: string } | null> {
  const identity = await prisma.identity.findUnique({
    where: { provider_providerUserId: { provider: profile.provider, providerUserId: profile.providerUserId } },
    select: { id: true, userId: true }
  })
  if (identity === null) return null
  try {
    await prisma.identity.update({ where: { id: identity.id }, data: { ...identityFields(profile), lastLoginAt: now } })
  } catch (error) {
    // P2025: unlinked (by its user, or by the provider's notice) between the two statements.
    if ((error as { code?: string }).code === 'P2025') return null
    throw error
  }
  return identity
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
  // `=== true`: a provider of the host app's may hand us a truthy string. An address the provider
  // marks as not linkable (Apple's private relay) joins no one, whoever else holds it.
  if (profile.emailVerified !== true || profile.emailLinkable === false || typeof profile.email !== 'string') return null
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
interface LinkedIdentity { userId: string, identityId: string, created: boolean }

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

interface IdentityRow { id: string, provider: string, provider_user_id: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The one identity of the account a path names: by its id, or, for clients written before ids were
 * listed, by its provider while the account has exactly one identity of it. Matched in memory, so no
 * value of the path ever reaches a uuid column.
 */
function identityNamed (identities: IdentityRow[], key: string): IdentityRow {
  if (UUID.test(key)) {
    const identity = identities.find(candidate => candidate.id === key.toLowerCase())
    if (identity === undefined) throw new IdentityNotFoundError()
    return identity
  }
  const ofProvider = identities.filter(candidate => candidate.provider === key)
  if (ofProvider.length === 0) throw new IdentityNotFoundError()
  if (ofProvider.length > 1) throw identityAmbiguous(key)
  return ofProvider[0]
}

const IDENTITIES_OF = 'SELECT id, provider, provider_user_id FROM identities WHERE user_id = $1'

/**
 * Removes the identity `key` names (see identityNamed) from a user, never the last one: 404
 * `identity_not_found`, 409 `identity_ambiguous` or `last_identity`. In the same transaction,
 * `revocations` queues the revocation of its grant at the provider. Returns the removed identity.
 */
export async function unlinkIdentity (sql: Sql, userId: string, key: string, revocations?: GrantRevocationQueue): Promise<IdentityRef> {
  const named = identityNamed(await sql.query<IdentityRow>(IDENTITIES_OF, [userId]), key)
  const unlinked = await sql.transaction(async tx => {
    // Its unused login codes go first, before the user row is locked: an exchange holds its code,
    // then waits on the user row (delete-user.ts explains the order), so the reverse would deadlock.
    await tx.query('DELETE FROM login_codes WHERE identity_id = $1', [named.id])
    // The user row lock serializes two unlinks racing for the last two identities.
    await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
    const identities = await tx.query<IdentityRow>(IDENTITIES_OF, [userId])
    const identity = identityNamed(identities, key)
    if (identities.length <= 1) throw new LastIdentityError()
    await revocations?.queue(tx, { userId, identityId: identity.id })
    // Its kept tokens go with it (provider_tokens cascades); its sessions stay, without it.
    await tx.query('DELETE FROM identities WHERE id = $1 AND user_id = $2', [identity.id, userId])
    return identity
  })
  return { id: unlinked.id, provider: unlinked.provider, providerUserId: unlinked.provider_user_id }
}
