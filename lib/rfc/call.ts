/**
 * `rfc.call`: one function-module call, by SOAP-RFC for HTTP destinations or by node-rfc for RFC
 * destinations, resolving to one flat object of exporting, changing and tables parameters.
 */
import { resolveDestination } from '../destination/resolve'
import type { Destination } from '../destination/types'
import { DestinationError } from '../errors'
import { closeRfcGateways } from './gateway'
import { mapRfcPoolOptions, type RfcPoolOptions } from './jco-mapping'
import { callNodeRfc, closeNodeRfcPools } from './node-rfc-driver'
import { resolveRfcDestination, rfcParameters } from './rfc-parameters'
import type { RfcValue } from './soap-envelope'
import { callSoapRfc } from './soap-driver'
import type { RfcResultValue } from './soap-response'

/** Options of {@link rfc.call}. */
export interface RfcCallOptions {
  /** The calling user's JWT (tenant, principal propagation for SOAP-RFC over HTTP destinations). */
  readonly jwt?: string
  readonly tenant?: string
  readonly signal?: AbortSignal
  /** Timeout in ms (SOAP-RFC: until the response headers; node-rfc: the call). */
  readonly timeout?: number
  /** SOAP-RFC: result parameters that are tables, so an empty one reads as `[]` (arrays you send count already). */
  readonly tables?: readonly string[]
  /** SOAP-RFC: largest response accepted (default 64 MiB). */
  readonly maxResponseBytes?: number
}

/**
 * The result: exporting, changing and tables parameters by name. Over SOAP-RFC every value is text
 * exactly as ABAP sent it, structures are objects and tables arrays; node-rfc returns its own types.
 */
export type RfcCallResult = Record<string, RfcResultValue | unknown>

function checkCall(fm: unknown, parameters: unknown, options: RfcCallOptions): void {
  if (typeof fm !== 'string' || fm === '')
    throw new TypeError('rfc.call: functionModule must be a non-empty string')
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new TypeError('rfc.call: parameters must be a plain object of parameter names to values')
  }
  if (typeof options !== 'object' || options === null)
    throw new TypeError('rfc.call: options must be an object')
  for (const k of ['jwt', 'tenant'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'string')
      throw new TypeError(`rfc.call: options.${k} must be a string`)
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError('rfc.call: options.signal must be an AbortSignal')
  for (const k of ['timeout', 'maxResponseBytes'] as const) {
    const v = options[k]
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v)))
      throw new RangeError(`rfc.call: options.${k} must be a positive number`)
  }
  if (
    options.tables !== undefined &&
    !(Array.isArray(options.tables) && options.tables.every((t) => typeof t === 'string'))
  ) {
    throw new TypeError('rfc.call: options.tables must be an array of parameter names')
  }
}

async function call(
  destination: string | Destination,
  functionModule: string,
  parameters: Readonly<Record<string, RfcValue>> = {},
  options: RfcCallOptions = {},
): Promise<RfcCallResult> {
  checkCall(functionModule, parameters, options)
  if (typeof destination !== 'string' && (typeof destination !== 'object' || destination === null)) {
    throw new TypeError('rfc.call: destination must be a name or a Destination object')
  }
  const dest = await resolveDestination(destination, {
    ...(options.jwt ? { jwt: options.jwt } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
  })
  if (dest.type === 'HTTP') return callSoapRfc(dest, functionModule, parameters, options)
  if (dest.type === 'RFC') {
    options.signal?.throwIfAborted()
    return callNodeRfc(dest, functionModule, parameters, options)
  }
  throw new DestinationError(
    'DESTINATION_INVALID',
    `rfc.call: destination "${dest.name}" has Type ${dest.type}; use an RFC destination (node-rfc) or an HTTP destination to the ABAP system (SOAP-RFC).`,
    { details: { destination: dest.name, property: 'Type' } },
  )
}

async function poolOptions(
  destination: string | Destination,
  options: { jwt?: string; tenant?: string } = {},
): Promise<RfcPoolOptions> {
  return mapRfcPoolOptions(await resolveRfcDestination('rfc.poolOptions', destination, options))
}

async function close(): Promise<void> {
  await Promise.all([closeNodeRfcPools(), closeRfcGateways()])
}

/**
 * RFC calls to ABAP systems.
 * - `rfc.call(destination, functionModule, parameters?, options?)` — SOAP-RFC (`POST <URL>/sap/bc/soap/rfc`)
 *   for HTTP destinations, node-rfc for RFC destinations.
 * - `rfc.parameters(destination)` — the node-rfc connection parameters ({@link rfcParameters}).
 * - `rfc.poolOptions(destination)` — node-rfc pool sizing from the JCo pooling properties.
 * - `rfc.close()` — closes node-rfc pools and OnPremise gateway ports.
 * @example
 * const { ECHOTEXT } = await rfc.call('ERP', 'STFC_CONNECTION', { REQUTEXT: 'hello' })
 * @throws RfcError RFC_ABAP_EXCEPTION (`err.key` = ABAP exception), RFC_FAILED, RFC_DRIVER_MISSING;
 *   DestinationError and transport errors of the route
 */
export const rfc = Object.freeze({ call, parameters: rfcParameters, poolOptions, close })
