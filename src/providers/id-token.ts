import type { createRemoteJWKSet, JWTPayload } from 'jose'
import { LoginErrorCode, LoginFlowError } from '../errors.js'

// OpenID Connect id_token validation (OIDC Core 3.1.3.7), for every provider that hands us one:
// generic issuers and Google (oidc.ts), Kakao and Naver in their OIDC modes, and whoever verifies
// a token a native app sends. One place for the rules, so no provider forgets one.

export interface IdTokenVerifierOptions {
  /** Names the provider in failure messages (`Kakao id_token rejected: …`). */
  displayName: string
  /** Where the issuer publishes its signing keys. */
  jwksUri: string
  /** The `iss` values accepted, exactly (Google writes its issuer with and without the scheme). */
  issuers: readonly string[]
  /** The `aud` values accepted: our client id, or several (a web and a native app key). */
  audiences: readonly string[]
  /** The signature algorithms accepted; never `none` or an HMAC one (its key would be our client secret). */
  algorithms: readonly string[]
  /** Bounds the JWKS fetch; a timeout ends the login as provider_timeout. */
  timeoutMs: number
  /** Claims the token must carry, besides the checks above. Default: `sub`, `exp`, `iat`. */
  requiredClaims?: readonly string[]
  /**
   * The `azp` values accepted when the token names several audiences (then `azp` must be present and
   * one of these, OIDC Core 3.1.3.7). Default: the audiences.
   */
  authorizedParties?: readonly string[]
}

/** A verified id_token's claims; `sub` is always a non-empty string. */
export type IdTokenClaims = JWTPayload & { sub: string }

export interface IdTokenCheck {
  /**
   * The nonce this login sent (or several forms of it, e.g. a native app's raw nonce and its hash):
   * the token's `nonce` claim must equal one. `null` only where no nonce was sent and something else
   * binds the token to this login (PKCE on our own code exchange): then the claim is not checked.
   */
  nonce: string | readonly string[] | null
}

export interface IdTokenVerifier {
  /** The claims of a valid token; otherwise a LoginFlowError: provider_token_error, or provider_timeout when the JWKS did not answer in time. */
  verify(idToken: string, check: IdTokenCheck): Promise<IdTokenClaims>
}

const DEFAULT_REQUIRED_CLAIMS = ['sub', 'exp', 'iat']

/**
 * A verifier with its own JWKS cache: jose's remote key set keeps the keys (10 minutes), and fetches
 * them again on an unknown `kid`, at most once a second (providers rotate keys; Kakao may block
 * clients that fetch too often). jose is imported at the first verification: only a server that
 * checks id_tokens pays for loading it.
 */
export function createIdTokenVerifier (options: IdTokenVerifierOptions): IdTokenVerifier {
  const { displayName, issuers, audiences, timeoutMs } = options
  const algorithms = options.algorithms.filter(alg => alg !== 'none' && !alg.startsWith('HS'))
  if (algorithms.length === 0) throw new Error(`${displayName}: no asymmetric id_token algorithm among ${options.algorithms.join(', ')}`)
  const requiredClaims = [...options.requiredClaims ?? DEFAULT_REQUIRED_CLAIMS]
  const authorizedParties = options.authorizedParties ?? audiences
  const reject = (reason: string, cause?: unknown) => new LoginFlowError(LoginErrorCode.providerTokenError, `${displayName} id_token rejected: ${reason}`, { cause })
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined

  return {
    async verify (idToken, { nonce }) {
      const { jwtVerify, createRemoteJWKSet } = await import('jose')
      keys ??= createRemoteJWKSet(new URL(options.jwksUri), { timeoutDuration: timeoutMs, cooldownDuration: 1000 })
      let claims: JWTPayload
      try {
        ({ payload: claims } = await jwtVerify(idToken, keys, { issuer: [...issuers], audience: [...audiences], algorithms, requiredClaims }))
      } catch (error) {
        const code = (error as { code?: string }).code
        if (code === 'ERR_JWKS_TIMEOUT') throw new LoginFlowError(LoginErrorCode.providerTimeout, `${displayName} JWKS did not answer in time`, { cause: error })
        throw reject(code ?? (error as Error).message, error)
      }
      if (typeof claims.sub !== 'string' || claims.sub === '') throw reject('sub is not a non-empty string')
      if (nonce !== null && !(typeof nonce === 'string' ? [nonce] : nonce).includes(claims.nonce as string)) throw reject('nonce does not match this login')
      // With several audiences, azp must name a party we accept (OIDC Core 3.1.3.7).
      if (Array.isArray(claims.aud) && claims.aud.length > 1 && !authorizedParties.includes(claims.azp as string)) throw reject('azp is not our client')
      return claims as IdTokenClaims
    }
  }
}
