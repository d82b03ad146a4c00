/**
 * JWT signature and claim verification with jose. Keys come only from the configured identity
 * service: XSUAA `https://<uaadomain>/token_keys?zid=<zid>`, or the IAS tenant's `jwks_uri` from its
 * OpenID configuration. A `jku` header pointing elsewhere is rejected, never followed.
 */
import type { JWTVerifyGetKey } from 'jose'
import { AuthError } from '../errors'
import { decodeJwt, type JwtIdentity } from './jwt'

export interface VerifyJwtOptions {
  /** XSUAA: the binding's `uaadomain` (e.g. `authentication.eu10.hana.ondemand.com`). */
  uaadomain?: string
  /** IAS: the tenant URL (e.g. `https://tenant.accounts.ondemand.com`); or, for XSUAA, the base URL of the key endpoint. */
  url?: string
  /** Expected audience (e.g. the binding's `clientid` / `xsappname`). */
  audience?: string | string[]
  /** Expected issuer; default: checked against the configured domain. */
  issuer?: string
  /** IAS `x-client_id` header for the JWKS request. */
  clientId?: string
  /** Seconds of clock skew accepted (default 60). */
  clockToleranceSeconds?: number
}

const MAX_KEY_SETS = 100
const keySets = new Map<string, JWTVerifyGetKey>()
const iasJwksUris = new Map<string, Promise<string>>()

// jose is imported on first verification, not when the package is required, to keep start-up cheap.
const loadJose = (): Promise<typeof import('jose')> => import('jose')

function keySet(
  createRemoteJWKSet: typeof import('jose')['createRemoteJWKSet'],
  url: string,
  headers: Record<string, string>,
): JWTVerifyGetKey {
  const key = `${url}\u0000${JSON.stringify(headers)}`
  let set = keySets.get(key)
  if (!set) {
    set = createRemoteJWKSet(new URL(url), {
      headers,
      timeoutDuration: 10_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    })
    keySets.set(key, set)
    if (keySets.size > MAX_KEY_SETS) keySets.delete(keySets.keys().next().value as string)
  }
  return set
}

function invalid(message: string, cause?: unknown): AuthError {
  return new AuthError('TOKEN_INVALID', message, cause === undefined ? {} : { cause })
}

function hostOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `https://${value}`).host.toLowerCase()
  } catch {
    return undefined
  }
}

/** True when `host` is `domain` or a subdomain of it (ports must match when the domain has one). */
function withinDomain(host: string | undefined, domain: string): boolean {
  if (!host) return false
  const d = domain.toLowerCase()
  return host === d || host.endsWith(`.${d}`)
}

async function iasJwksUri(base: string): Promise<string> {
  let p = iasJwksUris.get(base)
  if (!p) {
    p = (async () => {
      const res = await fetch(`${base.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(10_000),
      })
      if (!res.ok)
        throw new AuthError(
          'TOKEN_FETCH_FAILED',
          `The IAS OpenID configuration of ${hostOf(base)} answered ${res.status}.`,
        )
      const doc = (await res.json()) as { jwks_uri?: unknown }
      if (typeof doc.jwks_uri !== 'string')
        throw new AuthError(
          'TOKEN_FETCH_FAILED',
          `The IAS OpenID configuration of ${hostOf(base)} has no jwks_uri.`,
        )
      // The key endpoint must live on the configured tenant's host.
      if (hostOf(doc.jwks_uri) !== hostOf(base)) {
        throw new AuthError(
          'TOKEN_INVALID',
          `The IAS jwks_uri is not on ${hostOf(base)}; refusing to load keys from elsewhere.`,
        )
      }
      return doc.jwks_uri
    })()
    iasJwksUris.set(base, p)
    p.catch(() => iasJwksUris.delete(base))
  }
  return p
}

/**
 * Verifies a user JWT (signature, expiry, issuer domain, audience) and returns its identity.
 * @example const user = await verifyJwt(token, { uaadomain: xsuaa.uaadomain, audience: xsuaa.clientid })
 * @throws TOKEN_INVALID (bad signature, expired, foreign issuer or jku, wrong audience, malformed);
 *   TOKEN_FETCH_FAILED when the keys cannot be loaded; TypeError when neither `uaadomain` nor `url` is given.
 */
export async function verifyJwt(token: string, options: VerifyJwtOptions): Promise<JwtIdentity> {
  if (typeof token !== 'string') throw new TypeError('verifyJwt: "token" must be a string')
  if (!options || (!options.uaadomain && !options.url))
    throw new TypeError('verifyJwt: pass "uaadomain" (XSUAA) or "url" (IAS)')
  const identity = decodeJwt(token)
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
    jku?: unknown
  }
  const jose = await loadJose()
  const joseErrors = jose.errors
  let getKey: JWTVerifyGetKey
  let expectedDomain: string
  if (options.uaadomain) {
    expectedDomain = options.uaadomain
    if (typeof header.jku === 'string' && !withinDomain(hostOf(header.jku), expectedDomain)) {
      throw invalid(
        `The token's jku is not on ${expectedDomain}; the token was not issued by the configured XSUAA.`,
      )
    }
    if (!withinDomain(hostOf(identity.issuer ?? ''), expectedDomain)) {
      throw invalid(`The token's issuer is not on ${expectedDomain}.`)
    }
    if (!identity.tenant) throw invalid('The token has no zone id (zid); cannot select the XSUAA key set.')
    const base = (options.url ?? `https://${options.uaadomain}`).replace(/\/+$/, '')
    getKey = keySet(
      jose.createRemoteJWKSet,
      `${base}/token_keys?zid=${encodeURIComponent(identity.tenant)}`,
      {
        'x-zid': identity.tenant,
      },
    )
  } else {
    const base = options.url as string
    expectedDomain = hostOf(base) ?? ''
    if (hostOf(identity.issuer ?? '') !== expectedDomain)
      throw invalid(`The token's issuer is not the IAS tenant ${expectedDomain}.`)
    if (typeof header.jku === 'string' && hostOf(header.jku) !== expectedDomain) {
      throw invalid(`The token's jku is not on ${expectedDomain}; refusing it.`)
    }
    const headers: Record<string, string> = {}
    if (options.clientId) headers['x-client_id'] = options.clientId
    if (identity.tenant) headers['x-app_tid'] = identity.tenant
    getKey = keySet(jose.createRemoteJWKSet, await iasJwksUri(base), headers)
  }
  try {
    await jose.jwtVerify(token, getKey, {
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      clockTolerance: options.clockToleranceSeconds ?? 60,
    })
  } catch (cause) {
    if (cause instanceof joseErrors.JWKSTimeout || !(cause instanceof joseErrors.JOSEError)) {
      throw new AuthError('TOKEN_FETCH_FAILED', `Could not load signing keys from ${expectedDomain}.`, {
        cause,
      })
    }
    if (cause instanceof joseErrors.JWTExpired) throw invalid('The token has expired; get a new one.', cause)
    if (cause instanceof joseErrors.JWTClaimValidationFailed)
      throw invalid(`The token's "${cause.claim}" claim is not acceptable.`, cause)
    throw invalid(`The token's signature could not be verified against the keys of ${expectedDomain}.`, cause)
  }
  return identity
}
