// The package entry: `import handoff from 'handoff'`, then `app.register(handoff, { settings, hooks })`.
export { handoff, handoff as default, buildApp, type HandoffOptions, type BuildAppOptions } from './app.js'
export type { Clock } from './clock.js'
export type { HandoffNamespace } from './namespace.js'
export { loadConfig, ConfigError, type Config } from './config.js'
export type { Sql } from './db/database.js'
// For your own providers (`providers: [myProvider]`): docs/providers.md, "Writing your own provider".
export type { AuthorizeOptions, CodeExchange, NormalizedProfile, OAuth2Settings, ProfileContext, Provider, ProviderCallContext, ProviderIdentity, ProviderTokens, TokenResponse } from './providers/provider.js'
export { createIdTokenVerifier, type IdTokenCheck, type IdTokenClaims, type IdTokenVerifier, type IdTokenVerifierOptions } from './providers/id-token.js'
// app.handoff.providerAccessToken throws it when the provider refuses or fails a refresh.
export { ProviderTokenRefreshError } from './providers/provider-tokens.js'
export { fetchProviderJson } from './providers/provider.js'
export { LoginErrorCode, LoginFlowError, type LoginErrorCodeValue } from './errors.js'
export type { HandoffHooks, IdentityLinkedEvent, IdentityRef, IdentityUnlinkedEvent, LoginEvent, SessionRevokedEvent, SessionRevokedReason, UserCreatedEvent, UserDeletedEvent } from './lifecycle-hooks.js'
export { authenticate, authenticateSession } from './sessions/guards.js'
export { ACCESS_TOKEN_AUDIENCE, type AccessClaims, type AuthUser } from './sessions/access-claims.js'
export type { PublicUser } from './users/public-user.js'
export type { JwtAlgorithm, ProfileField } from './config.js'
export type { PublicJwk } from './sessions/signing-keys.js'
