/**
 * JWT decoding for identity (tenant, subdomain, user). No signature check here: tokens reaching
 * this module were verified by the app's auth middleware (or are verified in lib/auth/verify), and
 * the result is only used to pick a tenant or a cache key, never to grant access.
 */
import { AuthError } from '../errors'

/** Who a JWT speaks for, read from its claims (XSUAA and IAS flavours). */
export interface JwtIdentity {
  /** Zone / tenant id: `zid` → `app_tid` → `zone_uuid`. */
  readonly tenant?: string
  /** XSUAA subdomain: `ext_attr.zdn`, else the first label of the `iss` host (never for IAS). */
  readonly subdomain?: string
  /** `user_name` → `email` → `sub`. */
  readonly user?: string
  /** `user_id` → `user_uuid`. */
  readonly userId?: string
  readonly email?: string
  readonly issuer?: string
  /** `azp` → single `aud` → `cid` → `client_id`. */
  readonly clientId?: string
  /** Expiry in epoch milliseconds (`exp` × 1000). */
  readonly expiresAt?: number
  readonly isXsuaa: boolean
  readonly isIas: boolean
  readonly claims: Readonly<Record<string, unknown>>
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(segment) || segment === '') {
    throw new AuthError(
      'TOKEN_INVALID',
      `The JWT ${what} is not base64url; pass the raw token without "Bearer ".`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    // no cause: V8's message would quote part of the token
    throw new AuthError('TOKEN_INVALID', `The JWT ${what} is not JSON; the token is malformed.`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AuthError('TOKEN_INVALID', `The JWT ${what} is not a JSON object; the token is malformed.`)
  }
  return parsed as Record<string, unknown>
}

function issuerHost(iss: string | undefined): string | undefined {
  if (!iss) return undefined
  try {
    return new URL(iss.includes('://') ? iss : `https://${iss}`).hostname
  } catch {
    return undefined
  }
}

/**
 * Decodes a JWT (header and payload) into a {@link JwtIdentity}. Does not check the signature.
 * @example const { tenant, user } = decodeJwt(req.headers.authorization.slice(7))
 * @throws AuthError TOKEN_INVALID when the token is not a three-part JWT with JSON header and payload.
 */
export function decodeJwt(jwt: string): JwtIdentity {
  if (typeof jwt !== 'string') throw new TypeError('decodeJwt: "jwt" must be a string')
  const token = jwt.startsWith('Bearer ') ? jwt.slice(7) : jwt
  const parts = token.split('.')
  if (parts.length !== 3) {
    throw new AuthError(
      'TOKEN_INVALID',
      `The JWT has ${parts.length} part(s) instead of 3; pass the raw token.`,
    )
  }
  decodeSegment(parts[0] as string, 'header')
  const claims = Object.freeze(decodeSegment(parts[1] as string, 'payload'))
  const extAttr = (
    typeof claims.ext_attr === 'object' && claims.ext_attr !== null ? claims.ext_attr : {}
  ) as Record<string, unknown>
  const issuer = str(claims.iss)
  const host = issuerHost(issuer)
  const isXsuaa = extAttr.enhancer === 'XSUAA' || str(claims.zid) !== undefined
  const isIas =
    !isXsuaa &&
    (str(claims.app_tid) !== undefined ||
      str(claims.zone_uuid) !== undefined ||
      (host !== undefined && /\.accounts\d*\./.test(host)))
  const aud = Array.isArray(claims.aud) && claims.aud.length === 1 ? str(claims.aud[0]) : str(claims.aud)
  const subdomain =
    str(extAttr.zdn) ?? (!isIas && host && !/^[\d.]+$/.test(host) ? host.split('.')[0] : undefined)
  const exp = typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined
  const identity: Record<string, unknown> = {
    tenant: str(claims.zid) ?? str(claims.app_tid) ?? str(claims.zone_uuid),
    subdomain,
    user: str(claims.user_name) ?? str(claims.email) ?? str(claims.sub),
    userId: str(claims.user_id) ?? str(claims.user_uuid),
    email: str(claims.email),
    issuer,
    clientId: str(claims.azp) ?? aud ?? str(claims.cid) ?? str(claims.client_id),
    expiresAt: exp,
    isXsuaa,
    isIas,
    claims,
  }
  for (const k of Object.keys(identity)) if (identity[k] === undefined) delete identity[k]
  return Object.freeze(identity) as unknown as JwtIdentity
}

/**
 * Like {@link decodeJwt}, and also rejects an expired token (so a request is not sent with it).
 * @throws AuthError TOKEN_INVALID when malformed or expired.
 */
export function assertUsableJwt(jwt: string): JwtIdentity {
  const identity = decodeJwt(jwt)
  if (identity.expiresAt !== undefined && identity.expiresAt <= Date.now()) {
    const ago = Math.round((Date.now() - identity.expiresAt) / 1000)
    throw new AuthError(
      'TOKEN_INVALID',
      `The user JWT${identity.user ? ` of "${identity.user}"` : ''} expired ${ago} s ago; log in again or refresh the token.`,
      { details: { expiredSecondsAgo: ago } },
    )
  }
  return identity
}
