/** Masks secrets in destination properties for display (CLI, diagnostics). */
import { inspect } from 'node:util'
import type { Destination } from './types'

const SECRET_KEY =
  /(password|passwd|secret|private.?key|api.?key|credential|assertion|tech_user_secret|refresh.?token)/i
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|x-api-key|apikey|x-csrf-token|sap-connectivity-authentication)$/i
export const MASK = '********'

/** True when the property's value must never be shown. */
export function isSecretProperty(key: string): boolean {
  if (SECRET_KEY.test(key)) return true
  const header = /^(?:URL|tokenServiceURL)\.headers\.(.+)$/.exec(key)
  if (header && SECRET_HEADER.test(header[1] as string)) return true
  return /^(tokenService\.body|clientAssertion)\./.test(key) || key === 'x_user_token.jwks'
}

/** A URL with any `user:password@` removed. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, `$1${MASK}@`)
}

/** The properties with every secret value replaced by `********` (and URLs stripped of userinfo). */
export function maskedProperties(props: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(props))
    out[k] = isSecretProperty(k) ? MASK : /url$/i.test(k) || k === 'ldap.url' ? maskUrl(v) : v
  return out
}

/** URL (HTTP/LDAP), host:port (TCP, MAIL) or the RFC application/message server, for display. */
export function targetOf(d: Destination): string {
  switch (d.type) {
    case 'HTTP':
    case 'LDAP':
      return maskUrl(d.url)
    case 'TCP':
      return `${d.address.host.includes(':') ? `[${d.address.host}]` : d.address.host}:${d.address.port}`
    case 'MAIL':
      return `${d.protocol}://${d.host ?? ''}${d.port ? `:${d.port}` : ''}`
    case 'RFC': {
      const r = d.rfc
      if (r.ashost) return `${r.ashost} sysnr ${r.sysnr ?? '?'} client ${r.client ?? '?'}`
      if (r.mshost)
        return `${r.mshost} ${r.r3name ?? r.msserv ?? ''} group ${r.group ?? 'PUBLIC'} client ${r.client ?? '?'}`
      return `${r.wshost ?? ''}:${r.wsport ?? ''} client ${r.client ?? '?'}`
    }
  }
}

const SECRET_FIELDS = new Set([
  'password',
  'clientSecret',
  'tokenServicePassword',
  'keyStorePassword',
  'trustStorePassword',
  'passwd',
])

/** A display copy of a destination: the same shape with every secret replaced by `********`. */
export function maskDestination(d: Destination): Record<string, unknown> {
  const walk = (v: unknown, key: string, parent: string): unknown => {
    if (typeof v === 'string') {
      if (SECRET_FIELDS.has(key)) return MASK
      if ((parent === 'authTokens' || parent === 'httpHeader') && key === 'value') return MASK
      if (parent === 'certificates' && key === 'content') return MASK
      if (parent === 'headers' && SECRET_HEADER.test(key)) return MASK
      if (key === 'url') return maskUrl(v)
      return v
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key, key))
    if (typeof v === 'object' && v !== null) {
      if (key === 'properties') return maskedProperties(v as Record<string, string>)
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v))
        out[k] = walk(x, k, parent === 'authTokens' && k === 'httpHeader' ? 'httpHeader' : key)
      return out
    }
    return v
  }
  return walk(d, '', '') as Record<string, unknown>
}

/**
 * Makes `JSON.stringify(destination)` and `console.log(destination)` show masked secrets, so a
 * destination that ends up in a log line does not leak credentials. The fields themselves keep
 * their values for the code that needs them.
 */
export function hideSecretsWhenPrinted<T extends Destination>(d: T): T {
  Object.defineProperty(d, 'toJSON', { value: () => maskDestination(d), enumerable: false })
  Object.defineProperty(d, inspect.custom, {
    value: (depth: number, options: object) => inspect(maskDestination(d), { ...options, depth }),
    enumerable: false,
  })
  return d
}
