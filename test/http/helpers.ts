import { clearTokenCache } from '../../lib/auth/token-client'
import { parseDestination } from '../../lib/destination/parse'
import type { HttpDestination } from '../../lib/destination/types'
import { clearCsrfCache } from '../../lib/http/csrf'
import { closeAllPools } from '../../lib/transport/pools'

/** A parsed HTTP destination from BTP-style flat properties. */
export function httpDest(props: Record<string, string>): HttpDestination {
  const d = parseDestination({ Type: 'HTTP', ...props })
  if (d.type !== 'HTTP') throw new Error('expected an HTTP destination')
  return d
}

/** Clears every cache between tests. */
export async function resetClient(): Promise<void> {
  clearCsrfCache()
  clearTokenCache()
  await closeAllPools()
}
