/** Process-wide destination settings (set by `configureDestinations`, read by the sources). */

export interface DestinationsConfig {
  /** Destinations file; default `CAP_CONNECTIVITY_DESTINATIONS`, else `<root>/destinations.json` when present. */
  file?: string
  /** Where `./destinations.json` is looked up (CAP sets it to cds.root). Default process.cwd(). */
  root?: string
  /** Maximum cached Destination-service lookups (LRU). Default 1000. */
  cacheSize?: number
  /** Cache entries expire this many seconds before their earliest token. Default 60. */
  cacheMarginSeconds?: number
  /** Unknown top-level keys in the destinations file are errors. Default false. */
  strict?: boolean
}

export interface EffectiveConfig {
  readonly file: string | undefined
  readonly root: string | undefined
  readonly cacheSize: number
  readonly cacheMarginMs: number
  readonly strict: boolean
}

const DEFAULTS: EffectiveConfig = Object.freeze({
  file: undefined,
  root: undefined,
  cacheSize: 1000,
  cacheMarginMs: 60_000,
  strict: false,
})

let current: EffectiveConfig = DEFAULTS
let version = 0

export function currentConfig(): EffectiveConfig {
  return current
}

/** Bumped on every configure call so caches know their content may be stale. */
export function configVersion(): number {
  return version
}

/** Validates and installs options; omitted options take their defaults. */
export function setConfig(options: DestinationsConfig): EffectiveConfig {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('configureDestinations: options must be an object')
  const { file, root, cacheSize, cacheMarginSeconds, strict } = options
  if (file !== undefined && (typeof file !== 'string' || file === ''))
    throw new TypeError('configureDestinations: "file" must be a non-empty string')
  if (root !== undefined && (typeof root !== 'string' || root === ''))
    throw new TypeError('configureDestinations: "root" must be a non-empty string')
  if (cacheSize !== undefined && (!Number.isInteger(cacheSize) || cacheSize < 0))
    throw new RangeError('configureDestinations: "cacheSize" must be an integer ≥ 0 (0 disables the cache)')
  if (cacheMarginSeconds !== undefined && (!Number.isFinite(cacheMarginSeconds) || cacheMarginSeconds < 0))
    throw new RangeError('configureDestinations: "cacheMarginSeconds" must be a number ≥ 0')
  if (strict !== undefined && typeof strict !== 'boolean')
    throw new TypeError('configureDestinations: "strict" must be a boolean')
  current = Object.freeze({
    file,
    root,
    cacheSize: cacheSize ?? DEFAULTS.cacheSize,
    cacheMarginMs: cacheMarginSeconds === undefined ? DEFAULTS.cacheMarginMs : cacheMarginSeconds * 1000,
    strict: strict ?? DEFAULTS.strict,
  })
  version++
  return current
}
