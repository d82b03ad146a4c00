/**
 * Proxy caller authentication: parse `Proxy-Authorization`, verify the token, derive the account.
 */
import { AuthError } from '../../errors'
import { createJwtVerifier, type JwtVerifier, type TrustConfig } from '../principal/trust'
import type { ProxyAuthenticator, ProxyCaller } from './types'

/**
 * Extracts the token of `Proxy-Authorization: Bearer <jwt>` or `Basic base64(<jwt>:)` (both forms
 * SAP's proxy accepts). Returns undefined when absent or malformed.
 */
export function tokenFromProxyAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const m = /^\s*(Bearer|Basic)\s+(\S+)\s*$/i.exec(header)
  if (m === null) return undefined
  if (m[1]?.toLowerCase() === 'bearer') return m[2]
  const decoded = Buffer.from(m[2] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const token = colon === -1 ? decoded : decoded.slice(0, colon)
  return token === '' ? undefined : token
}

/** The account a token belongs to: `account`, else `zid`, else `sub` (the tunnel server's rule). */
export function accountOfClaims(claims: Readonly<Record<string, unknown>>): string | undefined {
  for (const key of ['account', 'zid', 'sub']) {
    const v = claims[key]
    if (typeof v === 'string' && v !== '') return v
  }
  return undefined
}

/** A user token names a user and was not issued to a client alone (client_credentials). */
function isUserToken(claims: Readonly<Record<string, unknown>>): boolean {
  if (claims.grant_type === 'client_credentials') return false
  return typeof claims.user_name === 'string' || typeof claims.email === 'string'
}

/**
 * Authenticator verifying proxy tokens with `trust` (HS256 secret or JWKS).
 * @example const authenticate = createTokenAuthenticator({ secret }); const { account } = await authenticate(jwt)
 */
export function createTokenAuthenticator(trust: TrustConfig | JwtVerifier): ProxyAuthenticator {
  const verify = typeof trust === 'function' ? trust : createJwtVerifier(trust)
  return async (token) => {
    if (token === undefined || token === '') throw new AuthError('TOKEN_MISSING', 'No proxy token was given')
    const claims = await verify(token)
    const account = accountOfClaims(claims)
    if (account === undefined)
      throw new AuthError('TOKEN_INVALID', 'The proxy token names no account, zid or sub')
    return { account, isUserToken: isUserToken(claims) }
  }
}

/**
 * Trusted mode (like Kyma's default): every caller is treated as `account` without a token. Only
 * for proxy ports that nothing but trusted workloads can reach.
 */
export function trustedAuthenticator(account: string): ProxyAuthenticator {
  const caller: ProxyCaller = { account }
  return async () => caller
}

/** Expiry (epoch ms) of a compact JWT, read without verification; undefined when absent or unreadable. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown
    }
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/**
 * Remembers successful verifications so a caller sending the same token on every request pays
 * for one signature check: entries live until the token expires, at most `ttlMs` (default 5 min),
 * and at most `max` tokens (default 1000) are kept. Failures are never cached.
 * @example const authenticate = cachedAuthenticator(createTokenAuthenticator({ jwksUri, issuer }))
 */
export function cachedAuthenticator(
  inner: ProxyAuthenticator,
  options: { max?: number; ttlMs?: number } = {},
): ProxyAuthenticator {
  const max = options.max ?? 1000
  const ttl = options.ttlMs ?? 300_000
  const cache = new Map<string, { caller: ProxyCaller; until: number }>()
  return async (token) => {
    if (token === undefined || token === '') return inner(token)
    const now = Date.now()
    const hit = cache.get(token)
    if (hit !== undefined) {
      if (hit.until > now) return hit.caller
      cache.delete(token)
    }
    const caller = await inner(token)
    const exp = expiryOf(token)
    const until = Math.min(now + ttl, exp ?? now + ttl)
    if (until > now) {
      if (cache.size >= max) {
        const oldest = cache.keys().next().value
        if (oldest !== undefined) cache.delete(oldest)
      }
      cache.set(token, { caller, until })
    }
    return caller
  }
}
