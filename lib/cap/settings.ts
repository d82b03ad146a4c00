/**
 * Plugin settings from `cds.requires.connectivity` (merged by CAP from this package's
 * package.json#cds, the app's config and profiles):
 *
 * ```json
 * "connectivity": { "[development]": { "devToken": true } }
 * ```
 * `devToken: true` takes the secret from CAP_CONNECTIVITY_DEV_SECRET; an object
 * `{ secret, issuer, audience, ttlSeconds }` sets it explicitly. Never active in production.
 */
import { loadCds } from './cds'
import type { DevTokenOptions } from './user-token'

export interface PluginSettings {
  readonly devToken?: DevTokenOptions
}

let cached: PluginSettings | undefined

function readDevToken(value: unknown, production: boolean): DevTokenOptions | undefined {
  if (production || value === undefined || value === false) return undefined
  const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  const secret = typeof obj.secret === 'string' ? obj.secret : process.env.CAP_CONNECTIVITY_DEV_SECRET
  if (!secret) return undefined
  if (secret.length < 16)
    throw new RangeError('cds.requires.connectivity.devToken.secret must be at least 16 characters')
  return {
    secret,
    ...(typeof obj.issuer === 'string' ? { issuer: obj.issuer } : {}),
    ...(typeof obj.audience === 'string' ? { audience: obj.audience } : {}),
    ...(typeof obj.ttlSeconds === 'number' ? { ttlSeconds: obj.ttlSeconds } : {}),
  }
}

/** The effective settings (read once per process; `resetPluginSettings()` re-reads). */
export function pluginSettings(): PluginSettings {
  if (cached) return cached
  const cds = loadCds()
  const conf = (cds.env.requires.connectivity ?? {}) as Record<string, unknown>
  const production = (cds.env.profiles ?? []).includes('production')
  const devToken = readDevToken(conf.devToken, production)
  cached = devToken ? { devToken } : {}
  return cached
}

/** Forget cached settings (tests change cds.env between cases). */
export function resetPluginSettings(): void {
  cached = undefined
}
