/**
 * agent.json: the agent's allowlist in the Cloud Connector's terms (virtual host:port → internal
 * host:port, HTTP resources by path). Deny by default. Unknown keys are kept in `raw` so extensions
 * (principal propagation, trust, service channels) read their own settings from the same file.
 */
import { readFile } from 'node:fs/promises'
import { ConnectivityError } from '../errors'
import { normaliseHost, parsePortRange } from './allowlist'

export interface HttpResource {
  readonly path: string
  /** Plain string prefix when true (the Cloud Connector's "path and all sub-paths"). */
  readonly subPaths: boolean
}

interface MappingBase {
  readonly virtualHost: string
  readonly virtualPortLo: number
  readonly virtualPortHi: number
  readonly internalHost: string
  readonly internalPortLo: number
  readonly internalPortHi: number
  /** The mapping's JSON object as written (extensions read their keys here). */
  readonly raw: Readonly<Record<string, unknown>>
}
export interface HttpMapping extends MappingBase {
  readonly protocol: 'HTTP'
  readonly internalProtocol: 'http' | 'https'
  readonly resources: readonly HttpResource[]
  /** Host header towards the backend: the internal host (default, virtual one in X-Forwarded-Host) or the virtual host. */
  readonly hostInHeader: 'internal' | 'virtual'
}
export interface TcpMapping extends MappingBase {
  readonly protocol: 'TCP'
}
export type AgentMapping = HttpMapping | TcpMapping

export interface AgentConfig {
  readonly locationId: string
  readonly mappings: readonly AgentMapping[]
  /** The whole document as written. */
  readonly raw: Readonly<Record<string, unknown>>
  /** The file it was read from (relative paths inside it resolve against its directory). */
  readonly path?: string
}

function invalid(origin: string, what: string): ConnectivityError {
  return new ConnectivityError('CONFIG_INVALID', `Agent config ${origin}: ${what}.`, {
    details: { file: origin },
  })
}

function ports(value: unknown, origin: string, field: string): [number, number] {
  const r = parsePortRange(typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '')
  if (!r) throw invalid(origin, `${field} must be a port or a range "lo-hi"`)
  return r
}

function str(value: unknown, origin: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(origin, `${field} must be a non-empty string`)
  return value.trim()
}

function parseMapping(m: unknown, i: number, origin: string): AgentMapping {
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    throw invalid(origin, `mappings[${i}] must be an object`)
  const o = m as Record<string, unknown>
  const at = `mappings[${i}]`
  const protocol = String(o.protocol ?? '').toUpperCase()
  const [vlo, vhi] = ports(o.virtualPort, origin, `${at}.virtualPort`)
  const [ilo, ihi] = ports(o.internalPort, origin, `${at}.internalPort`)
  if (ihi - ilo !== 0 && ihi - ilo !== vhi - vlo)
    throw invalid(origin, `${at}: internal and virtual port ranges differ in size`)
  const base = {
    virtualHost: normaliseHost(str(o.virtualHost, origin, `${at}.virtualHost`)),
    virtualPortLo: vlo,
    virtualPortHi: vhi,
    internalHost: str(o.internalHost, origin, `${at}.internalHost`),
    internalPortLo: ilo,
    internalPortHi: ihi,
    raw: Object.freeze({ ...o }),
  }
  if (protocol === 'TCP') return { ...base, protocol: 'TCP' }
  if (protocol !== 'HTTP') throw invalid(origin, `${at}.protocol must be "HTTP" or "TCP"`)
  if (vlo !== vhi) throw invalid(origin, `${at}: HTTP mappings take a single virtualPort`)
  const ip = String(o.internalProtocol ?? 'http').toLowerCase()
  if (ip !== 'http' && ip !== 'https')
    throw invalid(origin, `${at}.internalProtocol must be "http" or "https"`)
  const hih = String(o.hostInHeader ?? 'internal').toLowerCase()
  if (hih !== 'internal' && hih !== 'virtual')
    throw invalid(origin, `${at}.hostInHeader must be "internal" or "virtual"`)
  if (!Array.isArray(o.resources))
    throw invalid(origin, `${at}.resources must be an array (empty = nothing allowed)`)
  const resources = o.resources.map((r, j) => {
    const ro = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>
    const path = str(ro.path, origin, `${at}.resources[${j}].path`)
    if (!path.startsWith('/') || path.includes('?'))
      throw invalid(origin, `${at}.resources[${j}].path must start with / and have no query`)
    if (ro.active === false) return undefined
    return { path, subPaths: ro.subPaths === true }
  })
  return {
    ...base,
    protocol: 'HTTP',
    internalProtocol: ip,
    hostInHeader: hih,
    resources: resources.filter((r): r is HttpResource => r !== undefined),
  }
}

/**
 * Validates an agent.json document.
 * @throws ConnectivityError CONFIG_INVALID naming the file and the field.
 */
export function parseAgentConfig(doc: unknown, origin = 'agent.json'): AgentConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(origin, 'must be a JSON object')
  const o = doc as Record<string, unknown>
  const locationId = o.locationId === undefined ? '' : o.locationId
  if (typeof locationId !== 'string' || locationId.length > 191)
    throw invalid(origin, 'locationId must be a string (≤ 191 chars)')
  if (!Array.isArray(o.mappings)) throw invalid(origin, 'mappings must be an array')
  const mappings = o.mappings.map((m, i) => parseMapping(m, i, origin))
  return Object.freeze({ locationId, mappings: Object.freeze(mappings), raw: Object.freeze({ ...o }) })
}

/** Reads and validates an agent.json file. @throws ConnectivityError CONFIG_INVALID */
export async function readAgentConfig(path: string): Promise<AgentConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConnectivityError('CONFIG_INVALID', `Agent config ${path} cannot be read; check the path.`, {
      cause: err,
    })
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new ConnectivityError('CONFIG_INVALID', `Agent config ${path} is not valid JSON.`, { cause: err })
  }
  return Object.freeze({ ...parseAgentConfig(doc, path), path })
}

/** The mapping for a virtual host:port, if any. */
export function findMapping(config: AgentConfig, host: string, port: number): AgentMapping | undefined {
  const h = normaliseHost(host)
  return config.mappings.find(
    (m) => m.virtualHost === h && port >= m.virtualPortLo && port <= m.virtualPortHi,
  )
}

/** The internal port a virtual port maps to (ranges map position by position). */
export function internalPort(m: AgentMapping, virtualPort: number): number {
  return m.internalPortHi === m.internalPortLo
    ? m.internalPortLo
    : m.internalPortLo + (virtualPort - m.virtualPortLo)
}
