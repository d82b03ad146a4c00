/**
 * Corporate proxies from the environment for Internet destinations: `http_proxy` / `https_proxy`
 * (either case, lower case wins as in curl) and `no_proxy` with the usual forms: `*`, host names
 * (matching the host and its subdomains), `.suffix`, `host:port`, IP addresses.
 */

function env(name: string): string | undefined {
  const v = process.env[name] ?? process.env[name.toUpperCase()]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

function bypassed(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    let name = entry
    let entryPort: string | undefined
    const m = /^(.*?):(\d+)$/.exec(entry)
    if (m && !entry.startsWith('[') && (m[1] ?? '').split(':').length === 1) {
      name = m[1] ?? ''
      entryPort = m[2]
    } else if (entry.startsWith('[')) {
      const v6 = /^\[(.*)\](?::(\d+))?$/.exec(entry)
      name = v6?.[1] ?? entry
      entryPort = v6?.[2]
    }
    if (entryPort !== undefined && entryPort !== port) continue
    name = name.replace(/^\*?\./, '')
    if (host === name || host.endsWith(`.${name}`)) return true
  }
  return false
}

/**
 * The proxy URL to use for `url`, or undefined when none is configured or `no_proxy` matches.
 * @example envProxyFor(new URL('https://api.example.com'))?.host
 */
export function envProxyFor(url: URL): URL | undefined {
  const value = url.protocol === 'https:' ? env('https_proxy') : env('http_proxy')
  if (!value) return undefined
  if (bypassed(url, env('no_proxy'))) return undefined
  try {
    return new URL(value.includes('://') ? value : `http://${value}`)
  } catch {
    throw new TypeError(
      `The ${url.protocol === 'https:' ? 'https_proxy' : 'http_proxy'} environment variable is not a valid URL`,
    )
  }
}

/** `Basic …` for credentials embedded in a proxy URL, else undefined. */
export function proxyBasicAuth(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined
  const user = decodeURIComponent(proxy.username)
  const pass = decodeURIComponent(proxy.password)
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
}
