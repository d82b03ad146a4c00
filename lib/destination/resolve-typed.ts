/** Resolving a destination that a caller can use only when it has one particular `Type`. */
import { DestinationError } from '../errors'
import { resolveDestination } from './resolve'
import type { Destination, DestinationType } from './types'

/**
 * @internal Resolves a destination (by name or as given) and checks its `Type`, for APIs that
 * accept only one type (connectTcp, rfcParameters, ...).
 * @param fn the public function's name, used in messages
 * @param needs what such a destination must have, e.g. `with an "Address" (host:port)`
 * @throws TypeError when `destination` is neither a name nor an object
 * @throws DestinationError DESTINATION_NOT_FOUND, DESTINATION_INVALID (property `Type` on a type mismatch)
 */
export async function resolveDestinationOfType<T extends DestinationType>(
  fn: string,
  destination: string | Destination,
  opts: { jwt?: string | undefined; tenant?: string | undefined },
  type: T,
  needs: string,
): Promise<Extract<Destination, { type: T }>> {
  if (typeof destination !== 'string' && (typeof destination !== 'object' || destination === null)) {
    throw new TypeError(`${fn}: destination must be a name or a Destination object`)
  }
  const dest = await resolveDestination(destination, {
    ...(opts.jwt ? { jwt: opts.jwt } : {}),
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
  })
  if (dest.type !== type) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `${fn}: destination "${dest.name}" has Type ${dest.type}; it needs Type ${type} ${needs}.`,
      { details: { destination: dest.name, property: 'Type' } },
    )
  }
  return dest as Extract<Destination, { type: T }>
}
