import type { Config } from '../config.js'
import { createGitHubProvider } from './github.js'
import { createGoogleProvider } from './google.js'
import { createKakaoProvider } from './kakao.js'
import { createNaverProvider } from './naver.js'
import { createGenericOidcProvider } from './oidc.js'
import type { Provider } from './provider.js'

/** The providers this configuration enables, in the order the frontend should show them. */
export function enabledProviders (config: Config): Provider[] {
  const providers: Provider[] = []
  if (config.kakao) providers.push(createKakaoProvider(config.kakao))
  if (config.naver) providers.push(createNaverProvider(config.naver))
  if (config.google) providers.push(createGoogleProvider(config.google))
  if (config.github) providers.push(createGitHubProvider(config.github))
  if (config.oidc) providers.push(createGenericOidcProvider(config.oidc))
  return providers
}
