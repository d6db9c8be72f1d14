import type { Config } from '../config.js'
import { createGitHubProvider } from './github.js'
import type { Provider } from './provider.js'

/** The providers this configuration enables, in the order the frontend should show them. */
export function enabledProviders (config: Config): Provider[] {
  const providers: Provider[] = []
  if (config.github) providers.push(createGitHubProvider(config.github))
  return providers
}
