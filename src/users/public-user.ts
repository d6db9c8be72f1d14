/** What anyone signed in may know of a user: in the access token, in /auth/me, in the hooks' events. */
export interface PublicUser {
  id: string
  nickname: string
  avatarUrl: string | null
}

/** Only the public fields: an `AuthUser` (or any row) passed in carries more. */
export const publicUser = ({ id, nickname, avatarUrl }: PublicUser): PublicUser => ({ id, nickname, avatarUrl })
