/** The URL of an HTTP destination, checked once for every consumer (request preparation, routing). */
import { DestinationError } from '../errors'
import type { HttpDestination } from './types'

/**
 * Parses an HTTP destination's `URL` property.
 * @throws DestinationError DESTINATION_INVALID (property `URL`) when it is not an absolute http(s) URL
 */
export function httpDestinationUrl(d: HttpDestination): URL {
  try {
    const url = new URL(d.url)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme')
    return url
  } catch (cause) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" has no valid http(s) URL; check its "URL" property.`,
      { cause, details: { destination: d.name, property: 'URL' } },
    )
  }
}
