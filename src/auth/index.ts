import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import type { HandoffHooks } from '../lifecycle-hooks.js'
import type { Provider } from '../providers/provider.js'
import type { SessionCookies } from '../sessions/cookies.js'
import { appleNotificationRoutes } from './apple-notifications.js'
import { callbackRoutes } from './callback.js'
import { devLoginRoutes } from './dev-login.js'
import { DEV_PROVIDER } from './dev-provider.js'
import { exchangeRoutes } from './exchange.js'
import { linkRoutes } from './link.js'
import { loginRoutes } from './login.js'
import { registerOAuthDance } from './oauth-dance.js'
import { providerTokenRoutes } from './provider-token.js'
import { signupRoutes } from './signup.js'
import { unlinkWebhookRoutes } from './unlink-webhooks.js'
import { ProvidersSchema } from './schemas.js'

/** The login path, mounted at /auth: providers, login, callback, exchange, a native app's provider token. */
export const authPlugin: FastifyPluginAsyncTypebox<{ config: Config, providers: Provider[], cookies: SessionCookies, hooks: HandoffHooks }> = async (app, { config, providers, cookies, hooks }) => {
  const byId = new Map(providers.map(provider => [provider.id, provider]))
  for (const provider of providers) await registerOAuthDance(app, config, provider)

  const listed = providers.map(provider => ({ id: provider.id, name: provider.displayName, loginUrl: `${config.prefix}/auth/${provider.id}/login` }))
  if (config.devLogin) listed.push({ ...DEV_PROVIDER, loginUrl: `${config.prefix}/auth/dev/login` })

  app.get('/providers', {
    schema: {
      operationId: 'listProviders',
      tags: ['login'],
      summary: 'The enabled providers, for the frontend\'s login buttons',
      response: { 200: ProvidersSchema }
    }
  }, async () => ({ providers: listed }))

  await app.register(loginRoutes, { config, providers: byId })
  await app.register(linkRoutes, { config, providers: byId })
  await app.register(callbackRoutes, { config, providers: byId, hooks })
  await app.register(exchangeRoutes, { config, cookies, hooks })
  await app.register(signupRoutes, { config, cookies, hooks })
  await app.register(providerTokenRoutes, { config, providers: byId, cookies, hooks })
  if (config.devLogin) await app.register(devLoginRoutes, { config, hooks })
  await app.register(unlinkWebhookRoutes, { config, hooks })
  if (config.apple !== undefined) await app.register(appleNotificationRoutes, { config, apple: config.apple, hooks })
}
