/**
 * rfcParameters: an RFC destination as node-rfc connection parameters, with OnPremise destinations
 * pointed at a local gateway port that carries RFC through the connectivity proxy or our tunnel.
 */
import { resolveDestinationOfType } from '../destination/resolve-typed'
import type { Destination, RfcDestination } from '../destination/types'
import { DestinationError } from '../errors'
import { gatewayFor, gatewayPort } from './gateway'
import { mapRfcSettings, type RfcConnectionParameters, rfcConnectionKind } from './jco-mapping'

/** Options of {@link rfcParameters}. */
export interface RfcParametersOptions {
  /** The user's JWT (destination lookup per tenant/user; selects the connectivity tenant). */
  readonly jwt?: string
  readonly tenant?: string
  /** Connect timeout in ms for connections carried to an OnPremise gateway. */
  readonly timeout?: number
}

/** @internal Resolves and checks that the destination is of Type RFC. */
export function resolveRfcDestination(
  fn: string,
  destination: string | Destination,
  opts: { jwt?: string | undefined; tenant?: string | undefined },
): Promise<RfcDestination> {
  return resolveDestinationOfType(fn, destination, opts, 'RFC', 'with jco.client.* properties')
}

function onPremiseUnsupported(dest: RfcDestination, property: string, why: string): DestinationError {
  return new DestinationError('DESTINATION_INVALID', `OnPremise RFC destination "${dest.name}": ${why}`, {
    details: { destination: dest.name, property },
  })
}

/**
 * Maps an RFC destination's `jco.client.*` / `jco.destination.*` properties to node-rfc connection
 * parameters (`ashost`, `sysnr`, `client`, `user`, `passwd`, `lang`, `mshost`, `msserv`, `sysid`,
 * `group`, `wshost`, `wsport`, `saprouter`, SNC/TLS options), validating them.
 *
 * For `OnPremise` destinations (direct application server only), a listener on port `33<NN>`
 * (`48<NN>` with SNC) of a loopback address chosen for this destination carries the connection
 * through the connectivity proxy or the tunnel, and `ashost` points at that address; `sysnr` stays.
 * The result contains the password: hand it to node-rfc, never log it.
 * @example
 * const params = await rfcParameters('ERP_RFC')
 * const client = new (require('node-rfc').Client)(params)
 * @throws DestinationError DESTINATION_NOT_FOUND, DESTINATION_INVALID (naming the jco.* property)
 * @throws TransportError PORT_IN_USE, CONNECT_FAILED (no usable loopback address for the gateway port)
 */
export async function rfcParameters(
  destination: string | Destination,
  options: RfcParametersOptions = {},
): Promise<RfcConnectionParameters> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('rfcParameters: options must be an object')
  for (const k of ['jwt', 'tenant'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'string')
      throw new TypeError(`rfcParameters: options.${k} must be a string`)
  }
  if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0)) {
    throw new RangeError('rfcParameters: options.timeout must be a positive number of milliseconds')
  }
  const dest = await resolveRfcDestination('rfcParameters', destination, options)
  const params = mapRfcSettings(dest)
  if (dest.proxyType !== 'OnPremise') return params
  const kind = rfcConnectionKind(dest)
  if (kind !== 'direct') {
    throw onPremiseUnsupported(
      dest,
      kind === 'websocket' ? 'jco.client.wshost' : 'jco.client.mshost',
      kind === 'websocket'
        ? 'WebSocket RFC through the Cloud Connector would need TLS to a loopback address that the server certificate cannot name; map the system as a virtual application server (jco.client.ashost + jco.client.sysnr).'
        : 'load balancing needs the application servers the message server names, which a single local port cannot reach; map a virtual application server (jco.client.ashost + jco.client.sysnr) in the Cloud Connector.',
    )
  }
  if (params.saprouter) {
    throw onPremiseUnsupported(
      dest,
      'jco.client.saprouter',
      'a SAProuter for on-premise systems is configured in the Cloud Connector, not in the destination; remove jco.client.saprouter.',
    )
  }
  const sysnr = params.sysnr as string
  const target = { host: params.ashost as string, port: gatewayPort(sysnr, params.snc_mode === '1') }
  const gw = await gatewayFor(dest, target, {
    jwt: options.jwt,
    tenant: options.tenant,
    timeoutMs: options.timeout,
  })
  return { ...params, ashost: gw.host }
}
