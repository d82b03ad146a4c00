/**
 * The `destinations` environment variable: a JSON array as the Cloud SDK and the approuter read it,
 * with SDK-style (`name`, `url`, `username` …) or BTP-style (`Name`, `URL`, `User` …) keys.
 * Parsed once per distinct value, so a lookup is a string comparison and a Map read.
 */
import { ConnectivityError, isConnectivityError } from '../../errors'
import { parseJsonText } from '../json-text'
import { parseWithExtras } from '../parse'
import type { Destination } from '../types'

let cachedRaw: string | undefined
let cachedMap: ReadonlyMap<string, Destination> = new Map()
let cachedError: unknown

function envError(message: string): ConnectivityError {
  return new ConnectivityError('CONFIG_INVALID', `Environment variable "destinations": ${message}`, {
    details: { source: 'env' },
  })
}

function parseEnv(raw: string): Map<string, Destination> {
  const parsed = parseJsonText(raw)
  if ('problem' in parsed) {
    const { line, column, reason } = parsed.problem
    throw envError(
      `invalid JSON at line ${line}, column ${column} (${reason}). It must be a JSON array of destinations.`,
    )
  }
  if (!Array.isArray(parsed.value)) throw envError('must be a JSON array of destination objects.')
  const map = new Map<string, Destination>()
  const index = new Map<string, number>()
  parsed.value.forEach((entry, i) => {
    const dest = parseWithExtras(entry, { source: 'env', origin: `env "destinations", entry #${i + 1}` })
    const first = index.get(dest.name)
    if (first !== undefined)
      throw envError(
        `entries #${first + 1} and #${i + 1} are both named "${dest.name}"; names must be unique.`,
      )
    index.set(dest.name, i)
    map.set(dest.name, dest)
  })
  return map
}

/**
 * Every destination in the env var (empty when unset).
 * @throws ConnectivityError CONFIG_INVALID for bad JSON / duplicates; DestinationError DESTINATION_INVALID for a bad entry.
 */
export function envDestinations(): ReadonlyMap<string, Destination> {
  const raw = process.env.destinations
  if (raw !== cachedRaw) {
    cachedRaw = raw
    cachedError = undefined
    cachedMap = new Map()
    if (raw !== undefined && raw.trim() !== '') {
      try {
        cachedMap = parseEnv(raw)
      } catch (err) {
        if (!isConnectivityError(err)) throw err
        cachedError = err
      }
    }
  }
  if (cachedError) throw cachedError
  return cachedMap
}

export function clearEnvCache(): void {
  cachedRaw = undefined
  cachedMap = new Map()
  cachedError = undefined
}
