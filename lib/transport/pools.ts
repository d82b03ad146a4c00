/**
 * One undici Pool per route key, fed by a Connector through undici's `connect` option. Keep-alive is
 * on; the cache is bounded (least recently used pool closed first) and pools idle for a while are
 * closed. Route keys include the user whenever sockets carry a user identity, so a socket that
 * carried one user's principal is never handed to another user's request.
 */
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import type { Pool } from 'undici'
import type { ConnectContext, Connector } from './connector'

const debug = debuglog('cap-connectivity:pool')

/** How a pool reaches its origin. */
export interface PoolSpec {
  /** Cache key: origin, route, location id, TLS fingerprint and — for user-bound routes — the user. */
  readonly key: string
  /** Origin the pool talks HTTP to (the target, or the HTTP proxy for absolute-URI requests). */
  readonly origin: string
  readonly connector: Connector
  /** Fixed per pool: a pool is only ever used for one context (one user, one location). */
  readonly ctx: ConnectContext
  /** Sockets per origin (default 64). */
  readonly connections?: number
}

interface Entry {
  readonly pool: Pool
  lastUsed: number
  /** Latest context for new sockets (a user's refreshed JWT replaces the old one). */
  holder: { ctx: ConnectContext }
}

const MAX_POOLS = 256
const IDLE_MS = 120_000
const KEEP_ALIVE_MS = 30_000
const pools = new Map<string, Entry>()
let sweeper: NodeJS.Timeout | undefined

function sweep(): void {
  const cutoff = Date.now() - IDLE_MS
  for (const [key, entry] of pools) {
    if (entry.lastUsed < cutoff) closePool(key, entry)
  }
  if (pools.size === 0 && sweeper) {
    clearInterval(sweeper)
    sweeper = undefined
  }
}

function closePool(key: string, entry: Entry): void {
  pools.delete(key)
  // Route keys hold origins and hashed user ids only, never tokens.
  debug('closing idle pool %s', key.split('|').slice(0, 2).join('|'))
  // Let in-flight requests finish; close() rejects only on misuse, which we can ignore here.
  entry.pool.close().catch(() => undefined)
}

/** Wraps a Connector in undici's `connect(opts, callback)` socket-factory shape. */
export function connectFunction(connector: Connector, holder: { ctx: ConnectContext }) {
  return (
    opts: { hostname: string; port: string; protocol: string },
    callback: (...args: [null, Duplex] | [Error, null]) => void,
  ): void => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80)
    // Strip IPv6 brackets that URL.hostname keeps.
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname
    connector.connect({ host, port }, holder.ctx).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err, null),
    )
  }
}

/** Returns the cached pool for `spec.key`, creating it on first use. */
export function getPool(spec: PoolSpec): Pool {
  const hit = pools.get(spec.key)
  const now = Date.now()
  if (hit) {
    hit.holder.ctx = spec.ctx
    // Re-insert to keep Map order = least recently used first; a second's precision is plenty for
    // eviction, and skipping the re-insert keeps the hot path cheap.
    if (now - hit.lastUsed > 1000) {
      pools.delete(spec.key)
      pools.set(spec.key, hit)
    }
    hit.lastUsed = now
    return hit.pool
  }
  const holder = { ctx: spec.ctx }
  const pool = new (undiciPool())(spec.origin, {
    connections: spec.connections ?? 64,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS * 2,
    // Our connectors enforce their own connect deadline; undici's headers/body timeouts are replaced
    // by the per-request deadline in lib/http.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: connectFunction(spec.connector, holder) as unknown as NonNullable<Pool.Options['connect']>,
  })
  pools.set(spec.key, { pool, lastUsed: now, holder })
  if (pools.size > MAX_POOLS) {
    const oldest = pools.entries().next().value
    if (oldest) closePool(oldest[0], oldest[1])
  }
  if (!sweeper) {
    sweeper = setInterval(sweep, IDLE_MS / 2)
    sweeper.unref()
  }
  return pool
}

let PoolCtor: typeof Pool | undefined
// undici is loaded with the first pool, not when the package is required, to keep start-up cheap.
function undiciPool(): typeof Pool {
  PoolCtor ??= (require('undici') as typeof import('undici')).Pool
  return PoolCtor
}

/** Number of cached pools (for tests and diagnostics). */
export function poolCount(): number {
  return pools.size
}

/** Closes every cached pool (tests, graceful shutdown). */
export async function closeAllPools(): Promise<void> {
  const all = [...pools.values()]
  pools.clear()
  if (sweeper) {
    clearInterval(sweeper)
    sweeper = undefined
  }
  await Promise.all(all.map((e) => e.pool.close().catch(() => undefined)))
}
