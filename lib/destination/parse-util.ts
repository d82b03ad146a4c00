/** Small helpers shared by the destination parsers: typed reads of flat string properties. */
import { DestinationError } from '../errors'

export interface ParseScope {
  readonly name: string
  readonly origin?: string
  readonly props: Readonly<Record<string, string>>
}

/** DESTINATION_INVALID naming the destination, the property and what is expected (never the value). */
export function invalid(scope: ParseScope, property: string, expected: string): DestinationError {
  const where = scope.origin ? ` (${scope.origin})` : ''
  return new DestinationError(
    'DESTINATION_INVALID',
    `Destination "${scope.name}"${where}: property "${property}" ${expected}.`,
    { details: { destination: scope.name, property, ...(scope.origin ? { origin: scope.origin } : {}) } },
  )
}

/** The property value, or undefined when absent or empty (BTP writes empty strings for unset fields). */
export function opt(scope: ParseScope, key: string): string | undefined {
  const v = scope.props[key]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

export function req(scope: ParseScope, key: string, why: string): string {
  const v = opt(scope, key)
  if (v === undefined) throw invalid(scope, key, `is required ${why}`)
  return v
}

/** Secrets keep their exact value (a password may end in a space); only presence is checked. */
export function secret(scope: ParseScope, key: string): string | undefined {
  const v = scope.props[key]
  return v === undefined || v === '' ? undefined : v
}

export function reqSecret(scope: ParseScope, key: string, why: string): string {
  const v = secret(scope, key)
  if (v === undefined) throw invalid(scope, key, `is required ${why}`)
  return v
}

/** BTP booleans: "TRUE"/"true"/"FALSE"/"false" (also "1"/"0", "yes"/"no" as JCo writes them). */
export function bool(scope: ParseScope, key: string): boolean | undefined {
  const v = opt(scope, key)?.toLowerCase()
  if (v === undefined) return undefined
  if (v === 'true' || v === '1' || v === 'yes' || v === 'x') return true
  if (v === 'false' || v === '0' || v === 'no') return false
  throw invalid(scope, key, 'must be TRUE or FALSE')
}

export function int(scope: ParseScope, key: string, min: number, max: number): number | undefined {
  const v = opt(scope, key)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(scope, key, `must be a whole number from ${min} to ${max}`)
  }
  return n
}

/** Case-insensitive match against the allowed values; returns the canonical spelling. */
export function oneOf<T extends string>(scope: ParseScope, key: string, allowed: readonly T[], fallback: T): T
export function oneOf<T extends string>(scope: ParseScope, key: string, allowed: readonly T[]): T | undefined
export function oneOf<T extends string>(
  scope: ParseScope,
  key: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  const v = opt(scope, key)
  if (v === undefined) return fallback
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase())
  // The value is not echoed: a secret pasted into the wrong field must not end up in a log.
  if (hit === undefined)
    throw invalid(scope, key, `has an unknown value; it must be one of ${allowed.join(', ')}`)
  return hit
}

/** An absolute URL with one of the given schemes, returned without trailing slashes. */
export function url(scope: ParseScope, key: string, schemes: readonly string[], required: string): string
export function url(scope: ParseScope, key: string, schemes: readonly string[]): string | undefined
export function url(
  scope: ParseScope,
  key: string,
  schemes: readonly string[],
  required?: string,
): string | undefined {
  const v = required === undefined ? opt(scope, key) : req(scope, key, required)
  if (v === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(v)
  } catch {
    // the value is not echoed: a URL may carry user:password
    throw invalid(
      scope,
      key,
      `must be an absolute URL (${schemes.map((s) => `${s}://host[:port][/path]`).join(' or ')})`,
    )
  }
  const scheme = parsed.protocol.slice(0, -1)
  if (!schemes.includes(scheme))
    throw invalid(scope, key, `has scheme "${scheme}" but must use ${schemes.join(' or ')}`)
  if (parsed.hostname === '') throw invalid(scope, key, 'must name a host')
  return v.replace(/\/+$/, '')
}

/** Every `<prefix><name>` property as `{ name: value }` (names lower-cased when asked). */
export function prefixed(
  props: Readonly<Record<string, string>>,
  prefix: string,
  lower: boolean,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(props)) {
    if (k.length > prefix.length && k.startsWith(prefix))
      out[lower ? k.slice(prefix.length).toLowerCase() : k.slice(prefix.length)] = v
  }
  return out
}

/** Drops undefined values so the frozen object has only the keys that are set (exactOptionalPropertyTypes). */
export function compact<T extends object>(o: T): Compact<T> {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k]
  return o as Compact<T>
}

/** `T` with every property that may be undefined turned into an optional one. */
export type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>
}

/** Freezes an object and its plain-object / array members. */
export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}
