/**
 * Header validation and merging. A CR/LF or other illegal character is rejected before anything is
 * sent: DESTINATION_INVALID when it comes from the destination, REQUEST_INVALID when from the caller.
 */
import { DestinationError, TransportError } from '../errors'

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Visible ASCII, space, tab and obs-text; no CR, LF or NUL (RFC 9110 field-value).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

export type HeaderMap = Record<string, string>

function bad(
  origin: 'destination' | 'caller',
  name: string,
  which: 'name' | 'value',
  destination: string,
): Error {
  const msg =
    origin === 'destination'
      ? `Destination "${destination}" has an invalid header ${which} for "URL.headers.${safeName(name)}" (control characters or separators are not allowed); fix the destination.`
      : `Request header ${which} for "${safeName(name)}" is invalid (control characters or separators are not allowed); the request was not sent.`
  const details = { destination, header: safeName(name), requestSent: false }
  return origin === 'destination'
    ? new DestinationError('DESTINATION_INVALID', msg, { details })
    : new TransportError('REQUEST_INVALID', msg, { details })
}

/** Header names in messages: printable characters only, bounded, never the value. */
function safeName(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, '?').slice(0, 64)
}

/**
 * Validates and lower-cases headers. Arrays are joined with `, ` except `set-cookie`/`cookie`
 * semantics are left to the caller (cookies are joined with `; `).
 * @throws DESTINATION_INVALID / REQUEST_INVALID
 */
export function validHeaders(
  headers: Readonly<Record<string, string | number | readonly string[] | undefined>> | undefined,
  origin: 'destination' | 'caller',
  destination: string,
): HeaderMap {
  const out: HeaderMap = {}
  if (!headers) return out
  if (typeof headers !== 'object')
    throw new TypeError('request: "headers" must be an object of header names to values')
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue
    if (!TOKEN.test(name)) throw bad(origin, name, 'name', destination)
    const lower = name.toLowerCase()
    const value = Array.isArray(raw) ? raw.join(lower === 'cookie' ? '; ' : ', ') : String(raw)
    if (!VALUE.test(value)) throw bad(origin, name, 'value', destination)
    out[lower] = value
  }
  return out
}

/** Appends cookies (`name=value` pairs) to an existing Cookie header value. */
export function mergeCookies(existing: string | undefined, extra: string | undefined): string | undefined {
  if (!extra) return existing
  if (!existing) return extra
  return `${existing}; ${extra}`
}
