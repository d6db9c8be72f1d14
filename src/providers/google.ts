import type { OidcConfig } from '../config.js'
import { createOidcProvider } from './oidc.js'
import type { Provider, ProviderCallContext } from './provider.js'

// Google Identity's OpenID Connect (developers.google.com/identity/openid-connect/openid-connect):
// discovery at GOOGLE_ISSUER, PKCE, nonce, id_token checked against Google's rotating JWKS.
export function createGoogleProvider (config: Omit<OidcConfig, 'scopes' | 'displayName'> & { nativeClientIds?: string[] }, context: ProviderCallContext): Promise<Provider> {
  return createOidcProvider({
    ...config,
    id: 'google',
    displayName: 'Google',
    scopes: ['openid', 'email', 'profile'],
    issuerSetting: 'GOOGLE_ISSUER',
    // Google's id_tokens say `https://accounts.google.com` or `accounts.google.com`.
    acceptedIssuers: [config.issuer, config.issuer.replace(/^https?:\/\//, '')],
    // One issuer, so `sub` alone is the stable id (up to 255 ASCII characters).
    providerUserId: claims => claims.sub,
    // With `email profile`, Google's id_token carries every claim we read.
    useUserinfo: false,
    // Google documents `none`, `consent` and `select_account` only; the account chooser is its way
    // to sign in as someone else (and to add an account there).
    accountSwitchPrompt: 'select_account',
    // POST /auth/google/token: id_tokens of the iOS and Android apps (GOOGLE_NATIVE_CLIENT_IDS).
    nativeClientIds: config.nativeClientIds ?? []
  }, context)
}
