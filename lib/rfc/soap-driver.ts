/**
 * The SOAP-RFC driver: calls a function module through the ABAP system's `/sap/bc/soap/rfc`
 * endpoint over our HTTP client, so every route (direct, connectivity proxy, tunnel) and principal
 * propagation work as for any HTTP destination.
 */
import type { Readable } from 'node:stream'
import type { HttpDestination } from '../destination/types'
import { request } from '../http/request'
import { RfcError } from './rfc-error'
import { buildRfcEnvelope, type RfcValue } from './soap-envelope'
import { parseRfcResponse, type RfcResult } from './soap-response'

export const SOAP_RFC_PATH = '/sap/bc/soap/rfc'
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export interface SoapCallOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
  readonly signal?: AbortSignal | undefined
  readonly timeout?: number | undefined
  readonly tables?: readonly string[] | undefined
  readonly maxResponseBytes?: number | undefined
}

async function readBounded(body: Readable, max: number, what: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > max) {
      body.destroy()
      throw new RfcError(
        'RFC_FAILED',
        `SOAP-RFC response of ${what} exceeds ${max} bytes; raise maxResponseBytes or select less data.`,
        {
          details: { maxResponseBytes: max },
        },
      )
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function statusError(status: number, fm: string, dest: HttpDestination): RfcError {
  const hint =
    status === 401
      ? "the logon failed; check the destination's user/password (or principal propagation) and sap-client"
      : status === 403
        ? 'the user lacks authorization for SOAP-RFC (S_RFC for the function module, S_SERVICE/S_ICF for the endpoint)'
        : status === 404
          ? `the endpoint ${SOAP_RFC_PATH} is not active; activate the ICF service /sap/bc/soap/rfc (SICF)`
          : 'the system answered without a SOAP envelope'
  return new RfcError(
    'RFC_FAILED',
    `SOAP-RFC call of ${fm} on destination "${dest.name}" failed with HTTP ${status}: ${hint}.`,
    {
      details: { destination: dest.name, functionModule: fm, status },
    },
  )
}

/**
 * Calls `fm` over SOAP-RFC and returns its exporting, changing and tables parameters.
 * @throws RfcError RFC_ABAP_EXCEPTION (with `key`), RFC_FAILED; transport errors of the HTTP client as they are.
 */
export async function callSoapRfc(
  dest: HttpDestination,
  fm: string,
  parameters: Readonly<Record<string, RfcValue>>,
  options: SoapCallOptions = {},
): Promise<RfcResult> {
  const envelope = buildRfcEnvelope(fm, parameters)
  const tables = new Set(options.tables ?? [])
  for (const [name, value] of Object.entries(parameters)) if (Array.isArray(value)) tables.add(name)
  const pathname = new URL(dest.url).pathname.replace(/\/+$/, '')
  const res = await request(dest, {
    method: 'POST',
    // A destination URL may point at the endpoint itself or at the system's root.
    path: pathname.endsWith(SOAP_RFC_PATH) ? '' : SOAP_RFC_PATH,
    ...(dest.sapClient ? { query: { 'sap-client': dest.sapClient } } : {}),
    headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml', soapaction: '""' },
    body: envelope,
    // The SOAP processor does not check CSRF tokens; a token fetch would only cost a round trip.
    csrf: false,
    ...(options.jwt ? { jwt: options.jwt } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  })
  const type = String(res.headers['content-type'] ?? '')
  const isXml = /xml/i.test(type)
  if (!(res.status === 200 || (res.status === 500 && isXml))) {
    res.body.resume()
    throw statusError(res.status, fm, dest)
  }
  const text = await readBounded(res.body, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, fm)
  return parseRfcResponse(text, fm, { tables, destinationName: dest.name })
}
