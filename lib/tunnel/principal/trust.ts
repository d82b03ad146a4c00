/**
 * Trust for user JWTs that arrive on a tunnel stream (principal propagation) or at the local
 * connectivity proxy: an HS256 development secret, or a JWKS URL with expected issuer/audience.
 */
import { debuglog } from 'node:util'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { AuthError, ConnectivityError } from '../../errors'

const debug = debuglog('cap-connectivity:principal')

/** `"trust"` of agent.json: `{ secret }` for development, or `{ jwksUri, issuer?, audience? }`. */
export type TrustConfig =
  | { readonly secret: string; readonly issuer?: string; readonly audience?: string }
  | { readonly jwksUri: string; readonly issuer?: string; readonly audience?: string }

/** Verifies a compact JWS and returns its claims; rejects with AuthError `TOKEN_INVALID`. */
export type JwtVerifier = (jwt: string) => Promise<Readonly<Record<string, unknown>>>

const MAX_JWT_LENGTH = 16 * 1024

/**
 * Validates the `trust` object of agent.json (or server options).
 * @throws ConnectivityError `CONFIG_INVALID` naming the bad property.
 */
export function parseTrust(value: unknown, where = 'trust'): TrustConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConnectivityError('CONFIG_INVALID', `${where} must be an object with "secret" or "jwksUri"`)
  }
  const v = value as Record<string, unknown>
  const optional = (key: 'issuer' | 'audience'): string | undefined => {
    const x = v[key]
    if (x === undefined) return undefined
    if (typeof x !== 'string' || x === '') {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.${key} must be a non-empty string`)
    }
    return x
  }
  const issuer = optional('issuer')
  const audience = optional('audience')
  const extra = {
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  }
  if (typeof v.secret === 'string') {
    if (v.secret.length < 16) {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.secret must be at least 16 characters long`)
    }
    return { secret: v.secret, ...extra }
  }
  if (typeof v.jwksUri === 'string') {
    let url: URL
    try {
      url = new URL(v.jwksUri)
    } catch {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.jwksUri is not a URL`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.jwksUri must be an http(s) URL`)
    }
    // Without an issuer any key holder of the JWKS endpoint's realm would do; require it.
    if (issuer === undefined) {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.issuer is required together with jwksUri`)
    }
    return { jwksUri: v.jwksUri, ...extra }
  }
  throw new ConnectivityError('CONFIG_INVALID', `${where} needs "secret" (HS256, development) or "jwksUri"`)
}

/**
 * Creates a verifier for the given trust. Tokens must be signed by the trusted key, unexpired
 * (`exp` required) and match issuer/audience when configured.
 * @example const verify = createJwtVerifier({ secret: process.env.DEV_SECRET }); const claims = await verify(jwt)
 */
export function createJwtVerifier(trust: TrustConfig): JwtVerifier {
  const options = {
    requiredClaims: ['exp'],
    clockTolerance: 30,
    ...(trust.issuer === undefined ? {} : { issuer: trust.issuer }),
    ...(trust.audience === undefined ? {} : { audience: trust.audience }),
  }
  const verifyWith =
    'secret' in trust
      ? (
          (key: Uint8Array) => (jwt: string) =>
            jwtVerify(jwt, key, { ...options, algorithms: ['HS256'] })
        )(new TextEncoder().encode(trust.secret))
      : (
          (jwks: ReturnType<typeof createRemoteJWKSet>) => (jwt: string) =>
            jwtVerify(jwt, jwks, {
              ...options,
              algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'],
            })
        )(createRemoteJWKSet(new URL(trust.jwksUri), { timeoutDuration: 5000, cooldownDuration: 30_000 }))
  return async (jwt: string) => {
    if (typeof jwt !== 'string' || jwt.length === 0) {
      throw new AuthError('TOKEN_MISSING', 'No user token was given; principal propagation needs a user JWT')
    }
    if (jwt.length > MAX_JWT_LENGTH) {
      throw new AuthError('TOKEN_INVALID', `User token rejected: longer than ${MAX_JWT_LENGTH} characters`)
    }
    try {
      const { payload } = await verifyWith(jwt)
      return payload as JWTPayload & Record<string, unknown>
    } catch (err) {
      // jose's codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED …) say why without the token.
      const reason = (err as { code?: string }).code ?? 'verification failed'
      debug('user token rejected: %s', reason)
      throw new AuthError('TOKEN_INVALID', `User token rejected (${reason}); check the trust configuration`, {
        cause: err,
        details: { reason },
      })
    }
  }
}
