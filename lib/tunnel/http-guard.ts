/**
 * The agent's HTTP access check, as the Cloud Connector does it: Host must be the virtual host,
 * the path (query excluded, case-sensitive) must equal a resource path or — for "sub-paths" — start
 * with it as a plain string. Before matching, the path is normalised and anything that could make
 * the backend see a different path than the one checked is refused: `.`/`..` segments, encoded
 * dots, slashes and backslashes, double encoding, control characters.
 */
import type { HttpMapping } from './agent-config'

export type PathCheck =
  | { readonly ok: true; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string }

const UNRESERVED = /^[A-Za-z0-9\-_~]$/

/**
 * Normalises an origin-form request target. Percent-encoded unreserved characters are decoded
 * (so `/%61` is checked as `/a`, like the backend reads it); every other escape stays as is.
 */
export function normaliseTarget(target: string): PathCheck {
  if (!target.startsWith('/')) return { ok: false, reason: 'request target is not origin-form' }
  const q = target.indexOf('?')
  const rawPath = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q)
  if (rawPath.includes('#')) return { ok: false, reason: 'fragment in request target' }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f\\]/.test(rawPath))
    return { ok: false, reason: 'control character or backslash in path' }
  let path = ''
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath[i] as string
    if (c !== '%') {
      path += c
      continue
    }
    const hex = rawPath.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: 'malformed percent-encoding' }
    const ch = String.fromCharCode(Number.parseInt(hex, 16))
    if (ch === '.' || ch === '/' || ch === '\\' || ch === '%')
      return { ok: false, reason: `encoded "${ch}" in path` }
    path += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`
    i += 2
  }
  const segments = path.split('/')
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, reason: 'dot segment in path' }
  return { ok: true, path, query }
}

/** True when the normalised path is allowed by one of the mapping's resources. */
export function pathAllowed(mapping: HttpMapping, path: string): boolean {
  return mapping.resources.some((r) => (r.subPaths ? path.startsWith(r.path) : path === r.path))
}

/** Host header check: the virtual host, with the virtual port (optional when it is the scheme default 80). */
export function hostMatches(mapping: HttpMapping, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false
  const h = hostHeader.trim().toLowerCase()
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(h)
  if (!m) return false
  const host = (m[1] as string).replace(/^\[|\]$/g, '')
  const port = m[2] === undefined ? 80 : Number(m[2])
  return host === mapping.virtualHost && port === mapping.virtualPortLo
}
