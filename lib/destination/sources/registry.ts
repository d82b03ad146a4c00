/** Destinations registered in code with `registerDestination`, globally or for one tenant. */
import type { Destination } from '../types'

const GLOBAL = ''
const byTenant = new Map<string, Map<string, Destination>>()

export function registryPut(dest: Destination, tenant: string | undefined): void {
  const key = tenant ?? GLOBAL
  let map = byTenant.get(key)
  if (!map) {
    map = new Map()
    byTenant.set(key, map)
  }
  map.set(dest.name, dest)
}

/** The tenant's own registration wins over a global one. */
export function registryGet(name: string, tenant: string | undefined): Destination | undefined {
  if (tenant !== undefined) {
    const own = byTenant.get(tenant)?.get(name)
    if (own) return own
  }
  return byTenant.get(GLOBAL)?.get(name)
}

/** Registered destinations visible to the tenant (tenant ones replace global ones of the same name). */
export function registryList(tenant: string | undefined): Destination[] {
  const out = new Map(byTenant.get(GLOBAL) ?? [])
  if (tenant !== undefined) for (const [n, d] of byTenant.get(tenant) ?? []) out.set(n, d)
  return [...out.values()]
}

export function registryClear(): void {
  byTenant.clear()
}
