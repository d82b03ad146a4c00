/**
 * Per-destination work done once and cached with the destination object: URL parts, validated
 * `URL.headers.*`, `URL.queries.*`, `sap-client`, timeout and CSRF settings.
 */
import { httpDestinationUrl } from '../destination/http-url'
import type { HttpDestination } from '../destination/types'
import { DestinationError, TransportError } from '../errors'
import { type HeaderMap, validHeaders } from './headers'

export interface PreparedDestination {
  readonly url: URL
  /** Destination path without trailing slash (`''` for the root). */
  readonly basePath: string
  /** `URL.headers.*` plus `sap-client` (destination headers win over sap-client). */
  readonly headers: HeaderMap
  /** Query pairs of the destination (URL query verbatim, then `URL.queries.*` encoded), `key=value` each. */
  readonly queries: readonly QueryPair[]
  readonly timeoutMs: number | undefined
  readonly csrf: boolean
  /** True when neither the URL nor `URL.queries.*` add query parameters. */
  readonly noQueries: boolean
}

export const DEFAULT_TIMEOUT_MS = 60_000

const cache = new WeakMap<HttpDestination, PreparedDestination>()

function timeoutOf(d: HttpDestination): number | undefined {
  const raw = d.properties.timeout ?? d.properties['HTML5.Timeout']
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" has timeout "${raw}"; expected a positive number of milliseconds.`,
      {
        details: { destination: d.name, property: 'timeout' },
      },
    )
  }
  return n
}

/**
 * Validates and caches the destination's request defaults.
 * @throws DESTINATION_INVALID for an invalid URL, header or timeout.
 */
export function prepareDestination(d: HttpDestination): PreparedDestination {
  const hit = cache.get(d)
  if (hit) return hit
  const url = httpDestinationUrl(d)
  const headers: HeaderMap = {}
  // The SDK sends sap-client as a header; an explicit URL.headers.sap-client wins.
  if (d.sapClient) Object.assign(headers, validHeaders({ 'sap-client': d.sapClient }, 'destination', d.name))
  Object.assign(headers, validHeaders(d.headers, 'destination', d.name))
  const queries: QueryPair[] = [...rawPairs(url.search.slice(1)), ...encodedPairs(d.queries)]
  const prepared: PreparedDestination = {
    url,
    basePath: url.pathname.replace(/\/+$/, ''),
    headers,
    queries,
    timeoutMs: timeoutOf(d),
    csrf: String(d.properties.csrf ?? '').toLowerCase() !== 'false',
    noQueries: queries.length === 0,
  }
  cache.set(d, prepared)
  return prepared
}

/** One `key=value` query parameter: the decoded key (for overriding) and its wire form. */
export interface QueryPair {
  readonly key: string
  readonly raw: string
}

// RFC 3986 allows these in a query; OData wants `$top`, `'…'` and `(…)` readable, spaces as %20.
const KEEP = /%(24|27|28|29|2C|3A|40|2F)/g
const encode = (v: string): string => encodeURIComponent(v).replace(KEEP, (m) => decodeURIComponent(m))

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

/** Pairs written by hand (destination URL, `path`): kept byte for byte. */
function rawPairs(query: string): QueryPair[] {
  if (query === '') return []
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((raw) => ({ key: decodeKey(raw.split('=', 1)[0] ?? ''), raw }))
}

function encodedPairs(
  values: Readonly<Record<string, string | number | boolean | undefined>> | undefined,
): QueryPair[] {
  if (!values) return []
  const out: QueryPair[] = []
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) out.push({ key: k, raw: `${encode(k)}=${encode(String(v))}` })
  return out
}

/**
 * Builds `path?query` from the destination base path, the call's path and the queries. Later
 * sources win for the same key: destination URL < `URL.queries.*` < query in `path` < `query`.
 * Hand-written queries are kept verbatim (no `+` for spaces, which OData servers reject).
 */
export function buildPath(
  p: PreparedDestination,
  path: string | undefined,
  query: Readonly<Record<string, string | number | boolean | undefined>> | undefined,
): string {
  let full = p.basePath
  let inline: string | undefined
  if (path) {
    if (typeof path !== 'string') throw new TypeError('request: "path" must be a string')
    // Control characters and spaces would split the request line; reject instead of encoding silently.
    if (hasControlOrSpace(path)) {
      throw new TransportError(
        'REQUEST_INVALID',
        'Request "path" contains spaces or control characters; encode it first. The request was not sent.',
        { details: { requestSent: false } },
      )
    }
    const q = path.indexOf('?')
    const pathOnly = q >= 0 ? path.slice(0, q) : path
    inline = q >= 0 ? path.slice(q + 1) : undefined
    full += pathOnly.startsWith('/') ? pathOnly : `/${pathOnly}`
  }
  if (full === '') full = '/'
  if (inline === undefined && query === undefined && p.noQueries) return full
  const layers = [p.queries, rawPairs(inline ?? ''), encodedPairs(query)]
  const pairs: string[] = []
  for (let i = 0; i < layers.length; i++) {
    const later = new Set(layers.slice(i + 1).flatMap((l) => l.map((x) => x.key)))
    for (const pair of layers[i] as QueryPair[]) if (!later.has(pair.key)) pairs.push(pair.raw)
  }
  return pairs.length > 0 ? `${full}?${pairs.join('&')}` : full
}

function hasControlOrSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return true
  }
  return false
}
