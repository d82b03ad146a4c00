/**
 * Authentication of tunnel connections: a JWT in `Authorization: Bearer`, verified with jose
 * against a JWKS URL (XSUAA/IAS) or, for development, an HS256 secret. Also mints development
 * tokens (`cap-connectivity token`).
 */
import { createHmac, randomUUID } from 'node:crypto'
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { TunnelError } from '../errors'

interface ClaimChecks {
  /** Expected `iss`. */
  readonly issuer?: string
  /** Expected `aud` (one of). */
  readonly audience?: string | readonly string[]
  /** A scope the token must carry (`scope` array or space-separated `scope`/`scp`); suffix match as XSUAA's `$XSAPPNAME.x`. */
  readonly scope?: string
}

/** How the server authenticates agents and clients. */
export type TunnelAuthOptions =
  | ({ readonly secret: string } & ClaimChecks)
  | ({ readonly jwksUrl: string } & ClaimChecks)
  | { readonly insecureNoAuth: true }

/** Who is on the other end of a session (never contains the token). */
export interface TunnelIdentity {
  /** Tenant key agents are grouped by: `account` claim, else `zid`, else `sub`. */
  readonly account: string
  readonly subject: string
  readonly claims: Readonly<Record<string, unknown>>
}

export type TokenVerifier = (token: string | undefined) => Promise<TunnelIdentity>

const ANONYMOUS: TunnelIdentity = Object.freeze({ account: 'anonymous', subject: 'anonymous', claims: {} })

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string')
  return typeof raw === 'string' ? raw.split(' ').filter(Boolean) : []
}

function authError(message: string, status: 401 | 403, cause?: unknown): TunnelError {
  return new TunnelError('TUNNEL_AUTH_FAILED', message, { cause, details: { status } })
}

/**
 * Builds the token check used on every WebSocket upgrade (and reusable by the local proxy).
 * @throws TypeError when the options name neither a secret, a JWKS URL nor insecureNoAuth.
 */
export function createTokenVerifier(options: TunnelAuthOptions): TokenVerifier {
  if ('insecureNoAuth' in options) {
    if (options.insecureNoAuth !== true) throw new TypeError('auth.insecureNoAuth must be true when given')
    return async () => ANONYMOUS
  }
  let key: Uint8Array | JWTVerifyGetKey
  let algorithms: string[] | undefined
  if ('secret' in options) {
    if (typeof options.secret !== 'string' || options.secret.length === 0) {
      throw new TypeError('auth.secret must be a non-empty string')
    }
    key = new TextEncoder().encode(options.secret)
    algorithms = ['HS256']
  } else if ('jwksUrl' in options && typeof options.jwksUrl === 'string') {
    key = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 })
    algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384']
  } else throw new TypeError('auth needs secret, jwksUrl or insecureNoAuth: true')
  const checks = options as ClaimChecks
  return async (token) => {
    if (!token)
      throw authError(
        'No bearer token on the tunnel connection; pass --token (or the Authorization header).',
        401,
      )
    let payload: JWTPayload
    try {
      const verifyOptions = {
        algorithms,
        ...(checks.issuer ? { issuer: checks.issuer } : {}),
        ...(checks.audience ? { audience: checks.audience as string | string[] } : {}),
      }
      // jose's overloads differ for a key and a key function; the call is the same at runtime.
      payload =
        key instanceof Uint8Array
          ? (await jwtVerify(token, key, verifyOptions)).payload
          : (await jwtVerify(token, key, verifyOptions)).payload
    } catch (err) {
      const why = (err as { code?: string }).code ?? 'invalid'
      throw authError(
        `Tunnel token rejected (${why}); check its signature, issuer, audience and expiry.`,
        401,
        err,
      )
    }
    if (
      checks.scope &&
      !scopesOf(payload).some((s) => s === checks.scope || s.endsWith(`.${checks.scope}`))
    ) {
      throw authError(`Tunnel token lacks the required scope "${checks.scope}".`, 403)
    }
    const account = [payload.account, payload.zid, payload.sub].find(
      (v) => typeof v === 'string' && v.length > 0,
    )
    if (typeof account !== 'string') throw authError('Tunnel token has no account, zid or sub claim.', 403)
    return Object.freeze({
      account,
      subject: typeof payload.sub === 'string' ? payload.sub : account,
      claims: payload,
    })
  }
}

export interface DevTokenOptions {
  readonly secret: string
  readonly subject: string
  readonly account?: string
  /** Lifetime in seconds (default 3600). */
  readonly ttlSeconds?: number
  readonly issuer?: string
  readonly audience?: string
  readonly claims?: Readonly<Record<string, unknown>>
}

/**
 * Mints an HS256 development JWT for the tunnel server's `--secret` mode.
 * @example createDevToken({ secret: 's3cret', subject: 'agent-1', account: 'acme' })
 * @throws TypeError / RangeError on a missing secret or subject or a bad ttl.
 */
export function createDevToken(options: DevTokenOptions): string {
  if (typeof options.secret !== 'string' || !options.secret)
    throw new TypeError('secret must be a non-empty string')
  if (typeof options.subject !== 'string' || !options.subject)
    throw new TypeError('subject must be a non-empty string')
  const ttl = options.ttlSeconds ?? 3600
  if (!Number.isFinite(ttl) || ttl === 0) throw new RangeError('ttlSeconds must be a non-zero number')
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    ...options.claims,
    sub: options.subject,
    ...(options.account ? { account: options.account } : {}),
    ...(options.issuer ? { iss: options.issuer } : {}),
    ...(options.audience ? { aud: options.audience } : {}),
    iat: now,
    exp: now + ttl,
    jti: randomUUID(),
  }
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`
  const sig = createHmac('sha256', options.secret).update(body).digest('base64url')
  return `${body}.${sig}`
}
