/**
 * Bounded LRU cache of resolved destinations with single-flight loading.
 *
 * Keys isolate tenants always and users for user-dependent authentication: a tenant entry is only
 * ever written for destinations whose content does not depend on the user, so a user can never be
 * served another user's tokens. Entries expire a margin before the earliest token in them.
 */
import { type Destination, USER_DEPENDENT_AUTHENTICATIONS } from './types'

const DEFAULT_TTL_MS = 5 * 60_000

interface Entry {
  readonly dest: Destination
  readonly expiresAt: number
}

export interface CacheIdentity {
  /** Tenant (zone) id; the provider's when there is no caller tenant. */
  readonly tenant: string
  /** Stable user id, when the caller's JWT names a user. */
  readonly user: string | undefined
}

export class DestinationCache {
  readonly #entries = new Map<string, Entry>()
  readonly #inflight = new Map<string, Promise<Destination | undefined>>()
  #maxSize: number
  #marginMs: number

  constructor(maxSize: number, marginMs: number) {
    this.#maxSize = maxSize
    this.#marginMs = marginMs
  }

  configure(maxSize: number, marginMs: number): void {
    this.#maxSize = maxSize
    this.#marginMs = marginMs
    this.#trim()
  }

  get size(): number {
    return this.#entries.size
  }

  /** Tenant-wide entry first, then the user's own one. */
  get(name: string, id: CacheIdentity): Destination | undefined {
    return (
      this.#read(tenantKey(name, id)) ?? (id.user === undefined ? undefined : this.#read(userKey(name, id)))
    )
  }

  /**
   * Returns the cached destination or runs `load` once for all concurrent callers with the same
   * tenant, user and name. `load` resolving undefined (not found) is not cached.
   */
  async getOrLoad(
    name: string,
    id: CacheIdentity,
    load: () => Promise<Destination | undefined>,
  ): Promise<Destination | undefined> {
    const hit = this.get(name, id)
    if (hit) return hit
    const flightKey = userKey(name, id)
    const pending = this.#inflight.get(flightKey)
    if (pending) return pending
    const p = load()
      .then((dest) => {
        if (dest) this.set(name, dest, id)
        return dest
      })
      .finally(() => this.#inflight.delete(flightKey))
    this.#inflight.set(flightKey, p)
    return p
  }

  set(name: string, dest: Destination, id: CacheIdentity): void {
    if (this.#maxSize === 0 || dest.authentication === 'SAMLAssertion') return // assertions are one-time
    const userDependent = USER_DEPENDENT_AUTHENTICATIONS.has(dest.authentication)
    if (userDependent && id.user === undefined) return // nobody to bind the entry to
    const key = userDependent ? userKey(name, id) : tenantKey(name, id)
    const expiresAt = this.#expiry(dest)
    if (expiresAt <= Date.now()) return
    this.#entries.delete(key)
    this.#entries.set(key, { dest, expiresAt })
    this.#trim()
  }

  /** Drops the entries a lookup by this caller could hit (used when a fresh lookup replaces them). */
  invalidate(name: string, id: CacheIdentity): void {
    this.#entries.delete(tenantKey(name, id))
    this.#entries.delete(userKey(name, id))
  }

  clear(): void {
    this.#entries.clear()
    this.#inflight.clear()
  }

  #expiry(dest: Destination): number {
    let earliest = Number.POSITIVE_INFINITY
    for (const t of dest.authTokens ?? [])
      if (t.expiresAt !== undefined && t.expiresAt < earliest) earliest = t.expiresAt
    return Number.isFinite(earliest) ? earliest - this.#marginMs : Date.now() + DEFAULT_TTL_MS
  }

  #read(key: string): Destination | undefined {
    const e = this.#entries.get(key)
    if (!e) return undefined
    if (e.expiresAt <= Date.now()) {
      this.#entries.delete(key)
      return undefined
    }
    // LRU: re-insert so the Map's insertion order is least-recently-used first
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e.dest
  }

  #trim(): void {
    while (this.#entries.size > this.#maxSize)
      this.#entries.delete(this.#entries.keys().next().value as string)
  }
}

function tenantKey(name: string, id: CacheIdentity): string {
  return `t\u0000${id.tenant}\u0000${name}`
}

function userKey(name: string, id: CacheIdentity): string {
  return `u\u0000${id.tenant}\u0000${id.user ?? ''}\u0000${name}`
}
