import { randomInt } from 'node:crypto'
import type { Sql } from '../db/database.js'
import { catalogOf, formatMessage, type Language } from '../messages/index.js'
import type { NormalizedProfile } from '../providers/provider.js'
import { checkNickname, nicknameKey, suggestNickname } from './nicknames.js'

interface Availability {
  nickname: string
  available: boolean
  reason?: 'taken' | 'invalid' | 'reserved'
  message: string
}

const isTaken = async (sql: Sql, key: string): Promise<boolean> =>
  (await sql.query('SELECT 1 FROM users WHERE nickname_key = $1 LIMIT 1', [key])).length > 0

/** Whether a nickname could be taken now, said in `language`. Advisory: the unique index decides at signup. */
export async function nicknameAvailability (sql: Sql, input: string, language: Language): Promise<Availability> {
  const catalog = catalogOf(language)
  const check = checkNickname(input)
  if (!check.valid) {
    const message = check.reason === 'reserved' ? catalog.errors.nickname_reserved : formatMessage(catalog.details[check.wording.key], check.wording.params)
    return { nickname: check.nickname, available: false, reason: check.reason, message }
  }
  if (await isTaken(sql, check.key)) return { nickname: check.nickname, available: false, reason: 'taken', message: catalog.errors.nickname_taken }
  return { nickname: check.nickname, available: true, message: catalog.details.nickname_available }
}

/** The provider's nickname made valid, or with a short numeric suffix when that is taken. */
export async function suggestAvailableNickname (sql: Sql, profile: NormalizedProfile): Promise<string> {
  const source = profile.nickname ?? profile.name ?? profile.email?.split('@')[0]
  const base = suggestNickname(source)
  if (!await isTaken(sql, nicknameKey(base))) return base
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = suggestNickname(source, `_${randomInt(100, 10_000)}`)
    if (!await isTaken(sql, nicknameKey(candidate))) return candidate
  }
  return suggestNickname(source, `_${randomInt(10_000, 100_000)}`)
}
