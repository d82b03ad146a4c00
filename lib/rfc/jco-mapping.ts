/**
 * Maps an RFC destination's `jco.client.*` / `jco.destination.*` settings to the connection
 * parameters of SAP's NW RFC SDK as the `node-rfc` package takes them (lower-case keys, string
 * values), validating what the SDK would only reject at logon time.
 */
import { DestinationError } from '../errors'
import type { RfcDestination } from '../destination/types'

/** Connection parameters in node-rfc's form (`ashost`, `sysnr`, `client`, `user`, `passwd`, …). */
export type RfcConnectionParameters = Record<string, string>

/** How node-rfc reaches the system: one application server, a message server, or WebSocket RFC. */
export type RfcConnectionKind = 'direct' | 'load-balanced' | 'websocket'

/** node-rfc `Pool` options derived from the JCo pooling properties. */
export interface RfcPoolOptions {
  /** Connections kept open when idle (`jco.destination.pool_capacity`, default 1). */
  readonly low: number
  /** Most connections open at once (`jco.destination.peak_limit`, default max(10, low)). */
  readonly high: number
  /** How long a caller waits for a free connection (`max_get_client_time`, default 30000 ms). */
  readonly maxGetClientTimeMs: number
  /** Idle connections above `low` are closed after this (`expiration_time`, default 60000 ms). */
  readonly expirationTimeMs: number
}

// NW RFC SDK logon/communication parameters that JCo spells the same way; any other
// jco.client.* key (cloud_connector_location_id, tech_user_*, network, …) is JCo- or BTP-only
// and would make the SDK reject the logon as an unknown parameter.
const SDK_PASSTHROUGH = new Set([
  'snc_mode',
  'snc_partnername',
  'snc_qop',
  'snc_myname',
  'snc_lib',
  'snc_sso',
  'x509cert',
  'mysapsso2',
  'tls_client_pse',
  'tls_trust_all',
  'tls_sapcryptolib',
  'tls_client_certificate_logon',
  'trace',
  'codepage',
  'delta',
  'gwhost',
  'gwserv',
  'use_sapgui',
  'abap_debug',
  'lcheck',
  'pcs',
  'no_compression',
])

function invalid(dest: RfcDestination, property: string, expected: string): DestinationError {
  return new DestinationError(
    'DESTINATION_INVALID',
    `RFC destination "${dest.name}": property "${property}" ${expected}. Fix the destination definition.`,
    { details: { destination: dest.name, property } },
  )
}

function check(
  dest: RfcDestination,
  value: string | undefined,
  property: string,
  re: RegExp,
  expected: string,
) {
  if (value !== undefined && !re.test(value)) throw invalid(dest, property, expected)
}

/** Which connection shape the destination describes; throws DESTINATION_INVALID when none or an incomplete one. */
export function rfcConnectionKind(dest: RfcDestination): RfcConnectionKind {
  const r = dest.rfc
  if (r.wshost !== undefined) {
    if (r.wsport === undefined) throw invalid(dest, 'jco.client.wsport', 'is required with jco.client.wshost')
    return 'websocket'
  }
  if (r.ashost !== undefined) {
    if (r.sysnr === undefined) throw invalid(dest, 'jco.client.sysnr', 'is required with jco.client.ashost')
    return 'direct'
  }
  if (r.mshost !== undefined) {
    if (r.r3name === undefined && r.msserv === undefined) {
      throw invalid(dest, 'jco.client.r3name', 'or jco.client.msserv is required with jco.client.mshost')
    }
    return 'load-balanced'
  }
  throw invalid(
    dest,
    'jco.client.ashost',
    'is missing: set jco.client.ashost + jco.client.sysnr (direct), jco.client.mshost + jco.client.r3name or ' +
      'jco.client.msserv (load balancing), or jco.client.wshost + jco.client.wsport (WebSocket RFC)',
  )
}

/**
 * Validates the destination and maps it to node-rfc connection parameters (no network I/O).
 * @throws DestinationError `DESTINATION_INVALID` naming the offending `jco.*` property (never its value if secret).
 */
export function mapRfcSettings(dest: RfcDestination): RfcConnectionParameters {
  const r = dest.rfc
  const kind = rfcConnectionKind(dest)
  check(dest, r.sysnr, 'jco.client.sysnr', /^\d{2}$/, 'must be two digits (e.g. "00")')
  check(dest, r.client, 'jco.client.client', /^\d{3}$/, 'must be three digits (e.g. "100")')
  check(dest, r.lang, 'jco.client.lang', /^[A-Za-z0-9]{1,2}$/, 'must be a one- or two-character language key')
  check(
    dest,
    r.r3name,
    'jco.client.r3name',
    /^[A-Za-z][A-Za-z0-9]{2}$/,
    'must be a three-character system ID',
  )
  check(
    dest,
    r.msserv,
    'jco.client.msserv',
    /^(\d{1,5}|[A-Za-z][\w.-]{0,63})$/,
    'must be a port or service name',
  )
  check(dest, r.wsport, 'jco.client.wsport', /^\d{1,5}$/, 'must be a port number')
  check(
    dest,
    r.saprouter,
    'jco.client.saprouter',
    /^(\/[HSPW]\/[^/\s]+)+(\/H\/)?$/,
    'must be a route string like "/H/host/S/3299/H/"',
  )
  if (r.wsport !== undefined && (Number(r.wsport) < 1 || Number(r.wsport) > 65535)) {
    throw invalid(dest, 'jco.client.wsport', 'must be between 1 and 65535')
  }
  if (r.user !== undefined && (r.user.length === 0 || r.user.length > 12)) {
    throw invalid(dest, 'jco.client.user', `must have 1 to 12 characters (has ${r.user.length})`)
  }
  if (r.client === undefined)
    throw invalid(dest, 'jco.client.client', 'is required (the three-digit ABAP client)')
  const authType = r.authType || 'CONFIGURED_USER'
  if (authType !== 'CONFIGURED_USER') {
    throw invalid(
      dest,
      'jco.destination.auth_type',
      `is "${authType}": user propagation over RFC needs SAP's RFC proxy and SNC, which node-rfc cannot use ` +
        'here; use CONFIGURED_USER, or call the function over SOAP-RFC with an HTTP destination that propagates the user',
    )
  }
  const extra = r.clientExtra
  const certLogon =
    extra.snc_mode === '1' || extra.x509cert || extra.mysapsso2 || extra.tls_client_certificate_logon === '1'
  if (r.user === undefined && !certLogon) {
    throw invalid(
      dest,
      'jco.client.user',
      'is required (or SNC / certificate logon via jco.client.snc_mode=1)',
    )
  }
  if (r.user !== undefined && r.passwd === undefined && !certLogon) {
    throw invalid(dest, 'jco.client.passwd', 'is required with jco.client.user')
  }

  const out: RfcConnectionParameters = {}
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[key] = value
  }
  if (kind === 'direct') {
    put('ashost', r.ashost)
    put('sysnr', r.sysnr)
  } else if (kind === 'load-balanced') {
    put('mshost', r.mshost)
    put('msserv', r.msserv)
    put('sysid', r.r3name)
    out.group = r.group || 'PUBLIC'
  } else {
    put('wshost', r.wshost)
    put('wsport', r.wsport)
  }
  put('saprouter', r.saprouter)
  put('client', r.client)
  put('user', r.user)
  put('alias_user', r.aliasUser)
  put('passwd', r.passwd)
  put('lang', r.lang?.toUpperCase())
  for (const [key, value] of Object.entries(extra)) if (SDK_PASSTHROUGH.has(key)) put(key, value)
  return out
}

function nonNegative(
  dest: RfcDestination,
  value: number | undefined,
  property: string,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 0) throw invalid(dest, property, 'must be a non-negative integer')
  return value
}

/**
 * node-rfc pool sizing from `jco.destination.pool_capacity` / `peak_limit` / `max_get_client_time` / `expiration_time`.
 * @throws DestinationError `DESTINATION_INVALID` for negative or fractional values.
 */
export function mapRfcPoolOptions(dest: RfcDestination): RfcPoolOptions {
  const p = dest.rfc.pooling
  const low = nonNegative(dest, p.poolCapacity, 'jco.destination.pool_capacity', 1)
  // JCo's peak_limit 0 means "no limit"; a bounded default keeps a runaway caller from exhausting work processes.
  const peak = nonNegative(dest, p.peakLimit, 'jco.destination.peak_limit', 0)
  const high = peak === 0 ? Math.max(10, low) : Math.max(peak, low, 1)
  return {
    low,
    high,
    maxGetClientTimeMs: nonNegative(dest, p.maxGetClientTime, 'jco.destination.max_get_client_time', 30_000),
    expirationTimeMs: nonNegative(dest, p.expirationTime, 'jco.destination.expiration_time', 60_000),
  }
}
