import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config, ProfileField } from '../config.js'
import type { NormalizedProfile, Provider } from '../providers/provider.js'
import { loginCookies, type RememberedLogin } from './login-cookies.js'
import { authorizationUrl } from './oauth-dance.js'

// Consent repair: Kakao and Naver let a person untick optional consent items (email, name…), and
// the profile then simply lacks them. When the app requires one (KAKAO_REQUIRED_FIELDS,
// NAVER_REQUIRED_FIELDS), the callback sends the browser back to the provider once to ask again
// (Naver `auth_type=reprompt`, Kakao an additional consent for those items) instead of failing; a
// second round that still lacks one ends as provider_consent_missing with `missing=<fields>`.

const PROFILE_KEYS: Record<ProfileField, keyof NormalizedProfile> = { email: 'email', name: 'name', nickname: 'nickname', avatar: 'avatarUrl' }

/** The required fields this profile lacks (absent or blank). */
export function missingFields (profile: NormalizedProfile, required: readonly ProfileField[]): ProfileField[] {
  return required.filter(field => {
    const value = profile[PROFILE_KEYS[field]]
    return typeof value !== 'string' || value.trim() === ''
  })
}

/**
 * The repair round's start: the login's returnTo, challenge, link and native app carried over, the repair cookie
 * set (so the next callback ends instead of asking again), new state and PKCE cookies, and the
 * provider's authorize URL with its repair parameters. Nothing was written for the first round.
 */
export async function askAgainForConsent (app: FastifyInstance, config: Config, provider: Provider, login: RememberedLogin, missing: ProfileField[], request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  loginCookies(config, provider.id).remember(reply, { returnTo: login.returnTo, codeChallenge: login.codeChallenge, linkSessionId: login.linkSessionId, native: login.native, consentRepair: missing })
  request.log.info({ provider: provider.id, missing }, 'login lacks required profile fields: asking the provider once more')
  return reply.redirect(await authorizationUrl(app, provider.id, request, reply, provider.loginParams?.({ consentRepair: missing })), 302)
}
