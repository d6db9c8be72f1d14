import { randomInt } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { NormalizedProfile } from '../providers/provider.js'
import { nicknameKey, suggestNickname } from './nicknames.js'

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === 'P2002'

const identityFields = (profile: NormalizedProfile) => ({
  email: profile.email ?? null,
  emailVerified: profile.emailVerified,
  displayName: profile.name ?? profile.nickname ?? null,
  avatarUrl: profile.avatarUrl ?? null
})

/** The user an identity belongs to, refreshing what the provider told us about it. */
export async function findUserByIdentity (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<string | null> {
  const identity = await prisma.identity.findUnique({
    where: { provider_providerUserId: { provider: profile.provider, providerUserId: profile.providerUserId } },
    select: { id: true, userId: true }
  })
  if (identity === null) return null
  await prisma.identity.update({ where: { id: identity.id }, data: { ...identityFields(profile), lastLoginAt: now } })
  return identity.userId
}

/**
 * Creates a user and its identity in one statement. A taken nickname gets a short suffix; an
 * identity created concurrently by another callback wins, and we return its user.
 */
export async function createUserWithIdentity (prisma: PrismaClient, profile: NormalizedProfile, nickname: string, now: Date): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const candidate = attempt === 0 ? nickname : suggestNickname(nickname, `_${randomInt(1000, 10_000)}`)
    try {
      const user = await prisma.user.create({
        data: {
          nickname: candidate,
          nicknameKey: nicknameKey(candidate),
          name: profile.name ?? null,
          email: profile.emailVerified ? profile.email ?? null : null,
          emailVerified: profile.emailVerified && profile.email !== undefined,
          avatarUrl: profile.avatarUrl ?? null,
          identities: { create: { provider: profile.provider, providerUserId: profile.providerUserId, ...identityFields(profile), lastLoginAt: now } }
        },
        select: { id: true }
      })
      return user.id
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error
      const existing = await findUserByIdentity(prisma, profile, now)
      if (existing !== null) return existing
    }
  }
}

/** Signs in a returning identity, or creates its user with the provider's handle as nickname. */
export async function findOrCreateUser (prisma: PrismaClient, profile: NormalizedProfile, now: Date): Promise<string> {
  return await findUserByIdentity(prisma, profile, now) ??
    await createUserWithIdentity(prisma, profile, suggestNickname(profile.nickname ?? profile.name), now)
}
