/**
 * Destination names → HTTP destinations through the destination resolver.
 */
import { resolveDestination } from '../destination/resolve'
import type { Destination, HttpDestination } from '../destination/types'
import { DestinationError } from '../errors'

/**
 * Resolves `target` (a name or a Destination) and checks that it is an HTTP destination.
 * @throws DESTINATION_NOT_FOUND, DESTINATION_INVALID
 */
export async function resolveHttpDestination(
  target: string | Destination,
  jwt?: string,
  tenant?: string,
): Promise<HttpDestination> {
  if (typeof target !== 'string' && (typeof target !== 'object' || target === null)) {
    throw new TypeError('destination must be a destination name or a Destination object')
  }
  const d =
    typeof target === 'string'
      ? await resolveDestination(target, {
          ...(jwt !== undefined ? { jwt } : {}),
          ...(tenant !== undefined ? { tenant } : {}),
        })
      : target
  if (d.type !== 'HTTP') {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" is of type ${d.type}; HTTP requests need Type HTTP.`,
      {
        details: { destination: d.name, property: 'Type' },
      },
    )
  }
  return d
}
