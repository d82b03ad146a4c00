/**
 * Destination names → HTTP destinations through the destination resolver.
 */
import { resolveDestination } from '../destination/resolve'
import type { Destination, HttpDestination } from '../destination/types'
import { DestinationError } from '../errors'

/**
 * Checks that a Destination object is an HTTP destination.
 * @throws TypeError for a non-object; DESTINATION_INVALID for another type.
 */
export function asHttpDestination(d: Destination): HttpDestination {
  if (typeof d !== 'object' || d === null) {
    throw new TypeError('destination must be a destination name or a Destination object')
  }
  if (d.type !== 'HTTP') {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" is of type ${d.type}; HTTP requests need Type HTTP.`,
      { details: { destination: d.name, property: 'Type' } },
    )
  }
  return d
}

/**
 * Resolves `target` (a name or a Destination) and checks that it is an HTTP destination.
 * @throws DESTINATION_NOT_FOUND, DESTINATION_INVALID
 */
export async function resolveHttpDestination(
  target: string | Destination,
  jwt?: string,
  tenant?: string,
): Promise<HttpDestination> {
  if (typeof target !== 'string') return asHttpDestination(target)
  return asHttpDestination(
    await resolveDestination(target, {
      ...(jwt !== undefined ? { jwt } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
    }),
  )
}
