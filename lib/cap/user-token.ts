/**
 * The user's JWT for principal propagation and user-dependent destinations, and — in the
 * development profile only — a development JWT for CAP's mocked users, so principal propagation
 * is visible end to end on a laptop without an identity provider.
 */
import { createHmac } from 'node:crypto'
import type { CdsContext, CdsRequest } from './cds'

function bearer(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const m = /^bearer\s+(\S+)$/i.exec(value.trim())
  return m?.[1]
}

/**
 * The JWT of the current user: `cds.context.user.authInfo.token.jwt` (xssec 4), else the incoming
 * request's `Authorization: Bearer` header.
 */
export function incomingJwt(ctx: CdsContext | undefined, req: CdsRequest): string | undefined {
  const jwt = ctx?.user?.authInfo?.token?.jwt
  if (typeof jwt === 'string' && jwt) return jwt
  return (
    bearer(req.context?.headers?.authorization) ??
    bearer(req.context?.http?.req?.headers?.authorization) ??
    bearer(ctx?.http?.req?.headers?.authorization)
  )
}

/** Settings for development tokens (`cds.requires.connectivity.devToken`, development profile only). */
export interface DevTokenOptions {
  /** HS256 secret the agent trusts (`trust.secret` in agent.json); at least 16 characters. */
  readonly secret: string
  readonly issuer?: string
  readonly audience?: string
  /** Lifetime in seconds (default 900). */
  readonly ttlSeconds?: number
}

const MAX_CACHED = 256
const cache = new Map<string, { jwt: string; expiresAt: number }>()

/**
 * Mints (and caches) an HS256 development JWT for a mocked user. Claims follow XSUAA's naming
 * (`user_name`, `zid`) so the agent and our JWT decoding read them like real tokens.
 * @example devJwt({ secret }, 'alice', 't1')
 * @throws RangeError when the secret is shorter than 16 characters.
 */
export function devJwt(opts: DevTokenOptions, user: string, tenant?: string): string {
  if (opts.secret.length < 16) throw new RangeError('devToken.secret must be at least 16 characters')
  const key = `${user}\u0000${tenant ?? ''}`
  const now = Date.now()
  const hit = cache.get(key)
  if (hit && hit.expiresAt - 60_000 > now) return hit.jwt
  const ttl = opts.ttlSeconds ?? 900
  const iat = Math.floor(now / 1000)
  const payload: Record<string, unknown> = {
    sub: user,
    user_name: user,
    given_name: user,
    origin: 'cap-connectivity-dev',
    iat,
    exp: iat + ttl,
    iss: opts.issuer ?? 'cap-connectivity-dev',
    ...(opts.audience ? { aud: opts.audience } : {}),
    ...(tenant ? { zid: tenant } : {}),
  }
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`
  const jwt = `${unsigned}.${createHmac('sha256', opts.secret).update(unsigned).digest('base64url')}`
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string)
  cache.set(key, { jwt, expiresAt: (iat + ttl) * 1000 })
  return jwt
}
