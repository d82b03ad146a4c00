/**
 * Destination resolution: registry → destinations file → `destinations` env var → BTP Destination
 * service. Local sources are in memory (a Map read each); only Destination-service results go
 * through the tenant/user cache, since only they are expensive and carry tokens.
 */
import { statSync } from 'node:fs'
import { findServiceBinding } from '../auth/bindings'
import { decodeJwt, type JwtIdentity } from '../auth/jwt'
import { DestinationError } from '../errors'
import { DestinationCache } from './cache'
import { currentConfig, type DestinationsConfig, setConfig } from './config'
import { hideSecretsWhenPrinted } from './mask'
import { parseWithExtras } from './parse'
import { clearEnvCache, envDestinations } from './sources/env'
import { clearLoadedDocuments, configuredFilePath, loadDocumentSync } from './sources/file'
import { registryGet, registryPut } from './sources/registry'
import { fetchFromService, providerTenantOf } from './sources/service'
import type { Destination } from './types'

export interface GetDestinationOptions {
  /** The caller's JWT: selects the tenant and, for user-dependent authentication, the user. */
  jwt?: string
  /** Tenant (zone) id when there is no JWT (e.g. a subscriber's background job). */
  tenant?: string
  /** Default true; false always asks the Destination service (and refreshes the cache). */
  useCache?: boolean
}

/** Internal: the CLI checks a file given on its command line instead of the configured one. */
export interface ResolveInternals {
  file?: string
}

const cache = new DestinationCache(currentConfig().cacheSize, currentConfig().cacheMarginMs)

function checkOptions(name: unknown, options: GetDestinationOptions | undefined): void {
  if (typeof name !== 'string' || name === '')
    throw new TypeError('getDestination: "name" must be a non-empty string')
  if (options === undefined) return
  if (typeof options !== 'object' || options === null)
    throw new TypeError('getDestination: options must be an object')
  if (options.jwt !== undefined && typeof options.jwt !== 'string')
    throw new TypeError('getDestination: "jwt" must be a string')
  if (options.tenant !== undefined && typeof options.tenant !== 'string')
    throw new TypeError('getDestination: "tenant" must be a string')
  if (options.useCache !== undefined && typeof options.useCache !== 'boolean')
    throw new TypeError('getDestination: "useCache" must be a boolean')
}

/** The registry, file and env sources: synchronous Map reads (plus one stat), the hot path. */
function lookupLocal(
  name: string,
  tenant: string | undefined,
  internals: ResolveInternals,
): Destination | undefined {
  const registered = registryGet(name, tenant)
  if (registered) return registered
  const file = internals.file ? { path: internals.file, explicit: true } : configuredFilePath()
  const fromFile = loadDocumentSync(file.path, file.explicit)?.byName.get(name)
  if (fromFile) return fromFile
  return envDestinations().get(name)
}

/** The sources a failed lookup went through, for the not-found message (built only on that path). */
function searchedSources(internals: ResolveInternals, service: string): string[] {
  const file = internals.file ? { path: internals.file } : configuredFilePath()
  const fileExists = statSync(file.path, { throwIfNoEntry: false }) !== undefined
  return [
    'registry',
    `file ${file.path}${fileExists ? '' : ' (absent)'}`,
    process.env.destinations ? 'env "destinations"' : 'env "destinations" (unset)',
    service,
  ]
}

function notFound(name: string, searched: string[]): DestinationError {
  return new DestinationError(
    'DESTINATION_NOT_FOUND',
    `Destination "${name}" not found. Searched: ${searched.join(', ')}. Check the name (case-sensitive), the destinations file, the "destinations" env var or the Destination service of the tenant.`,
    { details: { destination: name, searched: searched.join('; ') } },
  )
}

async function lookupService(
  name: string,
  options: GetDestinationOptions,
  identity: JwtIdentity | undefined,
  tenant: string | undefined,
  internals: ResolveInternals,
): Promise<Destination> {
  const binding = findServiceBinding('destination')
  if (!binding)
    throw notFound(name, searchedSources(internals, 'destination service (no "destination" binding)'))
  const cacheId = {
    tenant: tenant ?? providerTenantOf(binding) ?? 'provider',
    user: identity?.userId ?? identity?.user,
  }
  const svc: { jwt?: string; tenant?: string } = {}
  if (options.jwt) svc.jwt = options.jwt
  if (tenant) svc.tenant = tenant
  let dest: Destination | undefined
  if (options.useCache === false) {
    dest = await fetchFromService(binding, name, svc)
    cache.invalidate(name, cacheId)
    if (dest) cache.set(name, dest, cacheId)
  } else {
    dest = await cache.getOrLoad(name, cacheId, () => fetchFromService(binding, name, svc))
  }
  if (dest) return dest
  throw notFound(
    name,
    searchedSources(internals, `destination service "${binding.name}" (tenant ${cacheId.tenant})`),
  )
}

/** Internal variant of {@link getDestination} used by the CLI. */
export function getDestinationWith(
  name: string,
  options: GetDestinationOptions,
  internals: ResolveInternals,
): Promise<Destination> {
  let identity: JwtIdentity | undefined
  let tenant: string | undefined
  try {
    checkOptions(name, options)
    identity = options.jwt ? decodeJwt(options.jwt) : undefined
    tenant = identity?.tenant ?? options.tenant
    // Not async on purpose: a local hit resolves without extra promise hops (it is the hot path).
    const local = lookupLocal(name, tenant, internals)
    if (local) return Promise.resolve(local)
  } catch (err) {
    return Promise.reject(err)
  }
  return lookupService(name, options, identity, tenant, internals)
}

/**
 * Resolves a destination by name from the registry, the destinations file, the `destinations` env
 * var and the BTP Destination service, in this order. Service results are cached per tenant (and
 * per user for user-dependent authentication) until 60 s before their earliest token expires.
 * @example const s4 = await getDestination('S4', { jwt: req.user.token })
 * @throws DestinationError DESTINATION_NOT_FOUND (lists the sources searched), DESTINATION_INVALID,
 *   DESTINATIONS_FILE_INVALID, DESTINATION_SERVICE_FAILED; AuthError TOKEN_INVALID / TOKEN_FETCH_FAILED.
 */
export function getDestination(name: string, options: GetDestinationOptions = {}): Promise<Destination> {
  return getDestinationWith(name, options, {})
}

function isDestination(v: unknown): v is Destination {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Destination).type === 'string' &&
    typeof (v as Destination).properties === 'object'
  )
}

/**
 * What every transport calls: a name is resolved with {@link getDestination}, a Destination object
 * is returned as is.
 * @throws like {@link getDestination}; TypeError for anything else.
 */
export async function resolveDestination(
  target: string | Destination,
  options: GetDestinationOptions = {},
): Promise<Destination> {
  if (typeof target === 'string') return getDestination(target, options)
  if (isDestination(target)) return target
  throw new TypeError('resolveDestination: target must be a destination name or a Destination object')
}

/**
 * Registers a destination in memory (first source searched), for all tenants or only `tenant`.
 * @example registerDestination({ Name: 'MOCK', Type: 'HTTP', URL: 'http://localhost:4004' })
 * @throws DestinationError DESTINATION_INVALID for invalid properties.
 */
export function registerDestination(
  props: Record<string, string> | Destination,
  options: { tenant?: string } = {},
): void {
  if (options.tenant !== undefined && (typeof options.tenant !== 'string' || options.tenant === ''))
    throw new TypeError('registerDestination: "tenant" must be a non-empty string')
  const dest = isDestination(props)
    ? Object.freeze(hideSecretsWhenPrinted({ ...props, source: 'registry' as const }))
    : parseWithExtras(props, { source: 'registry', origin: 'registerDestination' })
  registryPut(dest as Destination, options.tenant)
}

/** Empties the destination cache and forgets parsed files and env values (the registry stays). */
export function clearDestinationCache(): void {
  cache.clear()
  clearLoadedDocuments()
  clearEnvCache()
}

/**
 * Sets where and how destinations are looked up; omitted options take their defaults. Clears the cache.
 * @example configureDestinations({ root: cds.root, cacheSize: 500 })
 * @throws TypeError / RangeError naming a bad option.
 */
export function configureDestinations(options: DestinationsConfig): void {
  const cfg = setConfig(options)
  cache.configure(cfg.cacheSize, cfg.cacheMarginMs)
  clearDestinationCache()
}
