// The package entry: `import handoff from 'handoff'`, then `app.register(handoff, { settings, hooks })`.
export { handoff, handoff as default, buildApp, type HandoffOptions, type BuildAppOptions } from './app.js'
export type { Clock, HandoffNamespace } from './namespace.js'
export { loadConfig, ConfigError, type Config } from './config.js'
export type { Sql } from './db/database.js'
// For your own providers (`providers: [myProvider]`): docs/providers.md, "Writing your own provider".
export type { CodeExchange, NormalizedProfile, OAuth2Settings, ProfileContext, Provider, ProviderCallContext, TokenResponse } from './providers/provider.js'
export { fetchProviderJson } from './providers/provider.js'
export { LoginErrorCode, LoginFlowError, type LoginErrorCodeValue } from './errors.js'
export type { HandoffHooks, IdentityLinkedEvent, IdentityRef, IdentityUnlinkedEvent, LoginEvent, SessionRevokedEvent, SessionRevokedReason, UserCreatedEvent, UserDeletedEvent } from './lifecycle-hooks.js'
export { authenticate, authenticateSession, ACCESS_TOKEN_AUDIENCE, type AccessClaims, type AuthUser, type PublicUser } from './sessions/tokens.js'
export type { JwtAlgorithm, PublicJwk } from './sessions/signing-keys.js'
