import { ConfigError, type Config } from '../config.js'
import { createAppleProvider } from './apple.js'
import { createGitHubProvider } from './github.js'
import { createGoogleProvider } from './google.js'
import { createKakaoProvider } from './kakao.js'
import { createNaverProvider } from './naver.js'
import { createGenericOidcProvider } from './oidc.js'
import { BUILT_IN_PROVIDER_IDS, PROVIDER_ID_PATTERN, PROVIDER_ID_RULE, type Provider } from './provider.js'

/**
 * The providers this configuration enables, then the host app's own (`providers` option), in the
 * order the frontend should show them. OpenID Connect issuers are discovered here: an issuer that
 * cannot be is a ConfigError, and the app does not start.
 */
export async function enabledProviders (config: Config, extra: readonly Provider[] = []): Promise<Provider[]> {
  // Checked before any discovery: a wrong option fails the start at once.
  const taken = new Set([...BUILT_IN_PROVIDER_IDS, ...config.oidcIssuers.map(issuer => issuer.id)])
  extra.forEach((provider, index) => {
    checkExtraProvider(provider, `providers[${index}]`, taken)
    taken.add(provider.id)
  })
  const context = { timeoutMs: config.providerTimeoutMs }
  // Email linking trusts the built-in providers' verification (and the one OIDC_* issuer, as before
  // issuers could be named); a named issuer only with OIDC_<NAME>_TRUST_EMAIL=true, the host's own
  // providers only when they say so.
  const trusted = async (provider: Provider | Promise<Provider>): Promise<Provider> => ({ ...await provider, linkByVerifiedEmail: true })
  const configured = await Promise.all([
    config.kakao && trusted(createKakaoProvider(config.kakao)),
    config.naver && trusted(createNaverProvider(config.naver)),
    config.google && trusted(createGoogleProvider(config.google, context)),
    config.github && trusted(createGitHubProvider(config.github)),
    // Apple's relay addresses still never link: their profiles say emailLinkable: false.
    config.apple && trusted(createAppleProvider(config.apple, context)),
    config.oidc && trusted(createGenericOidcProvider({ ...config.oidc, id: 'oidc', settingPrefix: 'OIDC', trustEmail: true }, context)),
    ...config.oidcIssuers.map(issuer => createGenericOidcProvider(issuer, context).then((provider): Provider => ({ ...provider, linkByVerifiedEmail: issuer.trustEmail })))
  ])
  return [...configured.filter(provider => provider !== undefined), ...extra]
}

/** A provider from the plugin options, checked when the app starts rather than at its first login. */
function checkExtraProvider (provider: Provider, option: string, taken: ReadonlySet<string>): void {
  const fail = (field: string, problem: string) => new ConfigError(`Invalid option ${option}${field}: ${problem}`)
  if (typeof provider !== 'object' || provider === null) throw fail('', 'must be a provider object')
  const { id, displayName, oauth2 } = provider
  if (typeof id !== 'string' || !PROVIDER_ID_PATTERN.test(id)) throw fail('.id', `${JSON.stringify(id)} must be ${PROVIDER_ID_RULE}`)
  if (taken.has(id)) throw fail('.id', `"${id}" is ${BUILT_IN_PROVIDER_IDS.has(id) ? 'a built-in provider\'s id' : 'the id of another provider'}`)
  if (typeof displayName !== 'string' || displayName.trim() === '') throw fail('.displayName', 'must be a non-empty string')
  for (const method of ['readAccessToken', 'fetchProfile'] as const) {
    if (typeof provider[method] !== 'function') throw fail(`.${method}`, 'must be a function')
  }
  if (typeof oauth2 !== 'object' || oauth2 === null) throw fail('.oauth2', 'must be an object')
  for (const field of ['authorizeUrl', 'tokenUrl'] as const) {
    if (!/^https?:\/\/[^\s/?#]+/.test(String(oauth2[field]))) throw fail(`.oauth2.${field}`, 'must be an http(s) URL')
  }
  if (typeof oauth2.clientId !== 'string' || oauth2.clientId === '') throw fail('.oauth2.clientId', 'must be a non-empty string')
  if (typeof oauth2.clientSecret !== 'string') throw fail('.oauth2.clientSecret', 'must be a string')
  if (!Array.isArray(oauth2.scope)) throw fail('.oauth2.scope', 'must be an array of strings')
  if (oauth2.clientAuth !== 'body' && oauth2.clientAuth !== 'header') throw fail('.oauth2.clientAuth', 'must be "body" or "header"')
  if (oauth2.responseMode !== undefined && oauth2.responseMode !== 'form_post') throw fail('.oauth2.responseMode', 'must be "form_post" or absent')
  // @fastify/oauth2's own token call reads the callback's query, which a form_post callback has not.
  if (oauth2.responseMode === 'form_post' && typeof provider.exchangeCode !== 'function') throw fail('.exchangeCode', 'is required with oauth2.responseMode "form_post"')
}
