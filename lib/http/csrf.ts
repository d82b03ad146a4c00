/**
 * CSRF token cache. One `HEAD` with `x-csrf-token: Fetch` per route and user; the token and the
 * session cookies that came with it are reused until the server answers 403 with
 * `x-csrf-token: Required`, which drops the entry so the next request fetches again.
 */
import { debuglog } from 'node:util'

const debug = debuglog('cap-connectivity:csrf')

export interface CsrfEntry {
  readonly token: string
  /** `name=value; name2=value2` from the fetch response's `set-cookie`, or undefined. */
  readonly cookies?: string
}

const MAX_ENTRIES = 1000
const entries = new Map<string, CsrfEntry>()
const inflight = new Map<string, Promise<CsrfEntry | undefined>>()

/** Non-safe methods need a token (RFC 9110 safe methods do not). */
export function needsCsrf(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'TRACE'
}

/** `set-cookie` values → a Cookie header value (attributes dropped). */
export function cookiesFrom(setCookie: string | string[] | undefined): string | undefined {
  if (!setCookie) return undefined
  const list = Array.isArray(setCookie) ? setCookie : [setCookie]
  const pairs = list.map((c) => c.split(';', 1)[0]?.trim() ?? '').filter((c) => c.includes('='))
  return pairs.length > 0 ? pairs.join('; ') : undefined
}

/**
 * The cached entry for `key`, or the result of `fetcher` (single flight: concurrent callers share
 * one HEAD). `undefined` when the server gave no token; that is not cached.
 */
export async function csrfToken(
  key: string,
  fetcher: () => Promise<CsrfEntry | undefined>,
): Promise<CsrfEntry | undefined> {
  const hit = entries.get(key)
  if (hit) return hit
  const pending = inflight.get(key)
  if (pending) return pending
  const p = fetcher()
    .then((entry) => {
      if (entry) {
        entries.set(key, entry)
        while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string)
        debug('cached CSRF token for a route')
      }
      return entry
    })
    .finally(() => inflight.delete(key))
  inflight.set(key, p)
  return p
}

/** Forgets the token for `key` (after a 403 `x-csrf-token: Required`). */
export function dropCsrfToken(key: string, stale: CsrfEntry | undefined): void {
  // Only drop what the failed request used: a concurrent refetch may already have replaced it.
  if (entries.get(key) === stale) entries.delete(key)
}

/** Clears the whole CSRF cache. */
export function clearCsrfCache(): void {
  entries.clear()
  inflight.clear()
}
