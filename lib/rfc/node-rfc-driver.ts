/**
 * The node-rfc driver: RFC destinations through SAP's NW RFC SDK, when the app installed the
 * optional `node-rfc` package. Loaded lazily; one node-rfc Pool per destination and identity.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { debuglog } from 'node:util'
import type { RfcDestination } from '../destination/types'
import { isConnectivityError } from '../errors'
import { mapRfcPoolOptions } from './jco-mapping'
import { RfcError } from './rfc-error'
import { rfcParameters } from './rfc-parameters'
import type { RfcValue } from './soap-envelope'

const debug = debuglog('cap-connectivity:rfc')

/** The part of node-rfc's API this driver uses (node-rfc 3.x `Pool` / `Client`). */
interface NodeRfcClient {
  call(
    fm: string,
    params: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<Record<string, unknown>>
}
interface NodeRfcPool {
  acquire(): Promise<NodeRfcClient>
  release(client: NodeRfcClient): Promise<void>
  closeAll?(): Promise<void>
}
interface NodeRfcModule {
  Pool: new (config: {
    connectionParameters: Record<string, string>
    clientOptions?: Record<string, unknown>
    poolOptions?: { low: number; high: number }
  }) => NodeRfcPool
}

let loaded: NodeRfcModule | undefined
const pools = new Map<string, NodeRfcPool>()

function missing(dest: RfcDestination, cause: unknown): RfcError {
  return new RfcError(
    'RFC_DRIVER_MISSING',
    `RFC destination "${dest.name}" needs the optional "node-rfc" package with SAP's NW RFC SDK, which could not be loaded. ` +
      'Either install them (download the NW RFC SDK from SAP, set SAPNWRFC_HOME, then `npm install node-rfc`), ' +
      'or call the function over SOAP-RFC: define an HTTP destination with the URL of the ABAP system ' +
      '(ICF service /sap/bc/soap/rfc active) and pass that destination to rfc.call.',
    { cause, details: { destination: dest.name } },
  )
}

function load(dest: RfcDestination): NodeRfcModule {
  if (loaded) return loaded
  // Resolve from the application (cwd) first: node-rfc is the app's dependency, not ours.
  const attempts = [join(process.cwd(), 'package.json'), __filename]
  let lastError: unknown
  for (const from of attempts) {
    try {
      const mod = createRequire(from)('node-rfc') as Partial<NodeRfcModule>
      if (typeof mod.Pool !== 'function')
        throw new Error('node-rfc has no Pool export (version 3 or newer is needed)')
      loaded = mod as NodeRfcModule
      return loaded
    } catch (err) {
      lastError = err
    }
  }
  throw missing(dest, lastError)
}

function errorOf(err: unknown, fm: string, dest: RfcDestination): Error {
  if (isConnectivityError(err)) return err
  const e = (err ?? {}) as Record<string, unknown>
  const text = typeof e.message === 'string' ? e.message : String(err)
  if (e.name === 'ABAPError' || e.codeString === 'RFC_ABAP_EXCEPTION') {
    const str = (k: string) => (typeof e[k] === 'string' && e[k] !== '' ? { [k]: e[k] as string } : {})
    const m = {
      ...str('abapMsgClass'),
      ...str('abapMsgType'),
      ...str('abapMsgNumber'),
      ...str('abapMsgV1'),
      ...str('abapMsgV2'),
      ...str('abapMsgV3'),
      ...str('abapMsgV4'),
    }
    const abapMessage = Object.keys(m).length
      ? {
          ...(m.abapMsgClass ? { id: m.abapMsgClass } : {}),
          ...(m.abapMsgType ? { type: m.abapMsgType } : {}),
          ...(m.abapMsgNumber ? { number: m.abapMsgNumber } : {}),
          ...(m.abapMsgV1 ? { v1: m.abapMsgV1 } : {}),
          ...(m.abapMsgV2 ? { v2: m.abapMsgV2 } : {}),
          ...(m.abapMsgV3 ? { v3: m.abapMsgV3 } : {}),
          ...(m.abapMsgV4 ? { v4: m.abapMsgV4 } : {}),
        }
      : undefined
    return new RfcError('RFC_ABAP_EXCEPTION', text, {
      cause: err,
      ...(typeof e.key === 'string' ? { key: e.key } : {}),
      ...(abapMessage ? { abapMessage } : {}),
      details: { destination: dest.name, functionModule: fm },
    })
  }
  return new RfcError('RFC_FAILED', `RFC call of ${fm} on destination "${dest.name}" failed: ${text}`, {
    cause: err,
    details: {
      destination: dest.name,
      functionModule: fm,
      ...(typeof e.codeString === 'string' ? { rfcCode: e.codeString } : {}),
    },
  })
}

export interface NodeRfcCallOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
  readonly timeout?: number | undefined
}

/**
 * Calls `fm` through node-rfc with a pooled connection for the destination.
 * @throws RfcError RFC_DRIVER_MISSING, RFC_ABAP_EXCEPTION (with `key`), RFC_FAILED; DESTINATION_INVALID
 */
export async function callNodeRfc(
  dest: RfcDestination,
  fm: string,
  parameters: Readonly<Record<string, RfcValue>>,
  options: NodeRfcCallOptions = {},
): Promise<Record<string, unknown>> {
  const mod = load(dest)
  const params = await rfcParameters(dest, {
    ...(options.jwt ? { jwt: options.jwt } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  })
  // The key must change when the logon data does, but must not hold the password itself.
  const key = createHash('sha256')
    .update(JSON.stringify([dest.name, options.tenant ?? '', params]))
    .digest('base64url')
  let pool = pools.get(key)
  if (!pool) {
    const { low, high } = mapRfcPoolOptions(dest)
    pool = new mod.Pool({ connectionParameters: params, poolOptions: { low, high } })
    pools.set(key, pool)
    debug('node-rfc pool for destination "%s" (low %d, high %d)', dest.name, low, high)
  }
  let client: NodeRfcClient
  try {
    client = await pool.acquire()
  } catch (err) {
    throw errorOf(err, fm, dest)
  }
  try {
    return await client.call(
      fm,
      parameters as Record<string, unknown>,
      options.timeout ? { timeout: Math.ceil(options.timeout / 1000) } : undefined,
    )
  } catch (err) {
    throw errorOf(err, fm, dest)
  } finally {
    await pool.release(client).catch(() => undefined)
  }
}

/** Closes every node-rfc pool opened by this driver. */
export async function closeNodeRfcPools(): Promise<void> {
  const all = [...pools.values()]
  pools.clear()
  await Promise.all(all.map((p) => p.closeAll?.().catch(() => undefined)))
}
