/**
 * Early refusal of request targets that try to escape an allowlisted path prefix. The agent checks
 * its allowlist again; this stops obvious traversal before a stream is opened.
 */

/** The raw path+query of an absolute `http://` request target, exactly as the client sent it. */
export function rawPathOfAbsoluteUri(uri: string): string {
  const afterScheme = uri.indexOf('//') + 2
  let i = afterScheme
  while (i < uri.length && uri[i] !== '/' && uri[i] !== '?' && uri[i] !== '#') i++
  const rest = uri.slice(i)
  const hash = rest.indexOf('#')
  const noFragment = hash === -1 ? rest : rest.slice(0, hash)
  if (noFragment === '') return '/'
  return noFragment.startsWith('?') ? `/${noFragment}` : noFragment
}

/**
 * Why a path is unsafe, or undefined when it is fine: `.`/`..` segments (also percent-encoded),
 * encoded slashes or backslashes, backslashes, NUL, control characters.
 * @example unsafePathReason('/api/%2e%2e/admin') // 'dot segment'
 */
export function unsafePathReason(pathAndQuery: string): string | undefined {
  const q = pathAndQuery.indexOf('?')
  const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q)
  if (!path.startsWith('/')) return 'path must start with /'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'control character or backslash'
  if (/%(2f|5c|00)/i.test(path)) return 'encoded slash, backslash or NUL'
  for (const segment of path.split('/')) {
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return 'malformed percent-encoding'
    }
    if (decoded === '.' || decoded === '..') return 'dot segment'
  }
  return undefined
}
