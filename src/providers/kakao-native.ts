import type { KakaoConfig } from '../config.js'
import { LoginErrorCode, LoginFlowError, NativeTokenInvalidError, NativeTokenUnsupportedError } from '../errors.js'
import { createIdTokenVerifier, type IdTokenClaims, type IdTokenVerifier } from './id-token.js'
import { nonceForms, sdkUserId } from './native-sdk.js'
import { fetchProviderJson, optionalString, type NativeSdkToken, type NormalizedProfile, type ProviderCallContext } from './provider.js'

// Kakao's own SDKs (Android, iOS, Flutter, React Native wrappers) log in with the app's native app key
// (the JavaScript SDK with its JavaScript key), not the REST API key our browser login uses: an SDK's
// id_token names that key as `aud` (docs/mobile.md, "Path B: the provider's SDK"). So the accepted audiences
// are KAKAO_NATIVE_APP_KEYS, never the REST key alone. An access token names no audience: Kakao's
// token-info call says which app it was issued to, and only KAKAO_APP_ID's is accepted.
const JWKS_PATH = '/.well-known/jwks.json'
const TOKEN_INFO_PATH = '/v1/user/access_token_info'

/** The profile an SDK's OpenID Connect id_token carries; `email` is in it only when valid and verified. */
function profileFromIdToken (claims: IdTokenClaims): NormalizedProfile {
  const email = optionalString(claims.email)
  return {
    provider: 'kakao',
    // The same user id as /v2/user/me's, as a string: one identity whichever way the person signs in.
    providerUserId: sdkUserId('Kakao', claims.sub, /^\d{1,20}$/),
    nickname: optionalString(claims.nickname),
    email,
    emailVerified: email !== undefined,
    avatarUrl: optionalString(claims.picture)
  }
}

/** Kakao's answer to access_token_info: the token's user and app, or why it is refused. */
async function readTokenInfo (config: KakaoConfig, accessToken: string, timeoutMs: number): Promise<{ userId: string, appId: string }> {
  const { status, text, body } = await fetchProviderJson(config.apiUrl + TOKEN_INFO_PATH, {
    headers: { authorization: `Bearer ${accessToken}` },
    timeoutMs,
    failure: LoginErrorCode.providerError
  })
  const reply = (body ?? {}) as { code?: unknown, app_id?: unknown }
  // 401 -401: invalid or expired; 400 -2: not a token at all. 400 -1 is Kakao's own trouble (retry).
  if (status === 401 || (status === 400 && reply.code === -2)) throw new NativeTokenInvalidError('Kakao refused the access token (invalid or expired)')
  // The user id is a 64-bit integer: read it from the text, JSON.parse could round it.
  const userId = /"id"\s*:\s*(\d{1,20})\s*[,}]/.exec(text)?.[1]
  if (status !== 200 || userId === undefined || (typeof reply.app_id !== 'number' && typeof reply.app_id !== 'string')) {
    throw new LoginFlowError(LoginErrorCode.providerError, `Kakao ${TOKEN_INFO_PATH} answered ${status}${typeof reply.code === 'number' ? ` (${reply.code})` : ''}`)
  }
  return { userId, appId: String(reply.app_id) }
}

/**
 * POST /auth/kakao/token: an SDK id_token (KAKAO_OIDC on in the console; audience one of
 * KAKAO_NATIVE_APP_KEYS, issuer KAKAO_AUTH_URL, the app's nonce), or an SDK access token (issued to
 * KAKAO_APP_ID, then read with `fetchProfile`, the browser login's own /v2/user/me).
 */
export function kakaoSdkLogin (config: KakaoConfig, fetchProfile: (accessToken: string, context: ProviderCallContext) => Promise<NormalizedProfile>) {
  // Made at the first id_token: its JWKS cache then lives as long as the server.
  let idTokens: IdTokenVerifier | undefined
  return async (token: NativeSdkToken, context: ProviderCallContext): Promise<NormalizedProfile> => {
    if ('idToken' in token) {
      if (config.nativeAppKeys.length === 0) throw new NativeTokenUnsupportedError('Kakao id_tokens need KAKAO_NATIVE_APP_KEYS: the app keys your apps initialise Kakao\'s SDK with')
      idTokens ??= createIdTokenVerifier({
        displayName: 'Kakao',
        jwksUri: config.authUrl + JWKS_PATH,
        issuers: [config.authUrl],
        audiences: config.nativeAppKeys,
        algorithms: ['RS256'],
        timeoutMs: context.timeoutMs
      })
      return profileFromIdToken(await idTokens.verify(token.idToken, { nonce: nonceForms(token.nonce) }))
    }
    if (config.appId === undefined) throw new NativeTokenUnsupportedError('Kakao access tokens need KAKAO_APP_ID: the app id their token info must name')
    const info = await readTokenInfo(config, token.accessToken, context.timeoutMs)
    if (info.appId !== config.appId) throw new NativeTokenInvalidError('This Kakao access token was issued to another app')
    const profile = await fetchProfile(token.accessToken, context)
    if (profile.providerUserId !== info.userId) throw new LoginFlowError(LoginErrorCode.providerError, 'Kakao token info and /v2/user/me name different users')
    return profile
  }
}
