/**
 * The dev provider's identity (src/auth/dev-login.ts). Its own module so that the login path can
 * recognise dev identities (whose email anyone types into a form) without importing the dev routes.
 */
export const DEV_PROVIDER = { id: 'dev', name: 'Dev login' }
