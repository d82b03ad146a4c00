/**
 * Turns any accepted destination input into BTP's flat string map: BTP keys stay as they are,
 * SDK-style keys (`name`, `url`, `username` … as used by the Cloud SDK and the approuter in the
 * `destinations` env var) are renamed, and non-string scalars are written as strings.
 */
import { DestinationError } from '../errors'

/** SDK / approuter key → BTP key. Used only when the BTP key itself is absent. */
const SDK_KEYS: Readonly<Record<string, string>> = {
  name: 'Name',
  url: 'URL',
  type: 'Type',
  proxyType: 'ProxyType',
  authentication: 'Authentication',
  username: 'User',
  user: 'User',
  password: 'Password',
  tokenServiceUrl: 'tokenServiceURL',
  tokenServiceUrlType: 'tokenServiceURLType',
  sapClient: 'sap-client',
  cloudConnectorLocationId: 'CloudConnectorLocationId',
  isTrustingAllCertificates: 'TrustAll',
  keyStoreName: 'KeyStoreLocation',
  systemUser: 'SystemUser',
  description: 'Description',
}

function describeOrigin(origin: string | undefined): string {
  return origin ? ` (${origin})` : ''
}

/**
 * Flattens and renames. Nested `headers` / `queryParameters` objects (SDK style) become
 * `URL.headers.*` / `URL.queries.*`.
 * @throws DestinationError DESTINATION_INVALID when the input is not an object or a value is not a scalar.
 */
export function normalizeProperties(input: unknown, origin?: string): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `A destination${describeOrigin(origin)} must be a JSON object of string properties (Name, Type, URL, …).`,
      { details: origin ? { origin } : {} },
    )
  }
  const src = input as Record<string, unknown>
  const out: Record<string, string> = {}
  const nameHint =
    typeof src.Name === 'string' ? src.Name : typeof src.name === 'string' ? src.name : '(unnamed)'
  for (const [key, value] of Object.entries(src)) {
    if (value === undefined || value === null) continue
    if (
      (key === 'headers' || key === 'queryParameters') &&
      typeof value === 'object' &&
      !Array.isArray(value)
    ) {
      const prefix = key === 'headers' ? 'URL.headers.' : 'URL.queries.'
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined && v !== null) out[`${prefix}${k}`] = String(v)
      }
      continue
    }
    if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') {
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Destination "${nameHint}"${describeOrigin(origin)}: property "${key}" must be a string (BTP destinations are flat key-value maps).`,
        { details: { destination: nameHint, property: key, ...(origin ? { origin } : {}) } },
      )
    }
    out[key] = String(value)
  }
  for (const [sdkKey, btpKey] of Object.entries(SDK_KEYS)) {
    const v = out[sdkKey]
    if (v !== undefined && out[btpKey] === undefined) {
      out[btpKey] = v
      delete out[sdkKey]
    }
  }
  return out
}
