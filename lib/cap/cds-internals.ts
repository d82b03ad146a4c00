/**
 * The ONLY place that touches `@sap/cds` internals. CAP 10 has no public API that turns a remote
 * request (CQN or path) into the OData/REST request it sends, nor one that converts OData V2
 * payloads; re-implementing them would drift from CAP's own URL building, literals, auto-$batch and
 * V2 date/decimal handling. So we borrow two functions and check their shape on first use:
 *
 * - `libx/_runtime/remote/utils/query.js#extractRequestConfig(req, srv)` (cds 10; it was
 *   `(req, query, srv)` in cds 9) → `{ method, url, headers, data, _autoBatchedGet? }`
 * - `libx/_runtime/remote/utils/data.js#convertV2ResponseData(data, target, returnType?)`
 *
 * test/cap/cds-internals.test.ts fails loudly when a CAP upgrade changes either. REVISIT on every
 * @sap/cds major/minor upgrade.
 */
import { ConnectivityError } from '../errors'
import type { CdsRequest, RemoteServiceInstance } from './cds'

/** What `extractRequestConfig` returns. */
export interface CapRequestConfig {
  method: string
  url: string
  headers: Record<string, string | number>
  data?: unknown
  responseType?: string
  _autoBatchedGet?: boolean
}

type ExtractRequestConfig = (req: CdsRequest, srv: RemoteServiceInstance) => CapRequestConfig
type ConvertV2ResponseData = (data: unknown, target: unknown, returnType?: unknown) => unknown

export const QUERY_MODULE = '@sap/cds/libx/_runtime/remote/utils/query.js'
export const DATA_MODULE = '@sap/cds/libx/_runtime/remote/utils/data.js'

interface Internals {
  extractRequestConfig: ExtractRequestConfig
  convertV2ResponseData: ConvertV2ResponseData
}

let internals: Internals | undefined

function incompatible(what: string, cause?: unknown): never {
  throw new ConnectivityError(
    'CONFIG_INVALID',
    `cap-connectivity cannot use this @sap/cds version: ${what}. Supported: @sap/cds 10.x; ` +
      'set "connectivity": false on the remote service to fall back to CAP\'s own client.',
    cause === undefined ? {} : { cause },
  )
}

/**
 * Loads and checks the two internals (resolved next to the app's `@sap/cds`).
 * @throws ConnectivityError `CONFIG_INVALID` when CAP changed them.
 */
export function capInternals(): Internals {
  if (internals) return internals
  let query: Record<string, unknown>
  let data: Record<string, unknown>
  try {
    query = require(QUERY_MODULE) as Record<string, unknown>
    data = require(DATA_MODULE) as Record<string, unknown>
  } catch (cause) {
    return incompatible('its remote-service internals moved', cause)
  }
  const extract = query.extractRequestConfig
  const convert = data.convertV2ResponseData
  // cds 9 had extractRequestConfig(req, query, srv); cds 10 has (req, srv). Arity is our tripwire.
  if (typeof extract !== 'function' || extract.length !== 2) {
    return incompatible('extractRequestConfig(req, srv) not found')
  }
  if (typeof convert !== 'function' || convert.length < 2) {
    return incompatible('convertV2ResponseData(data, target) not found')
  }
  internals = {
    extractRequestConfig: extract as ExtractRequestConfig,
    convertV2ResponseData: convert as ConvertV2ResponseData,
  }
  return internals
}

/** CAP's request config for `req`, with the URL path relative to the destination URL. */
export function buildRequestConfig(req: CdsRequest, srv: RemoteServiceInstance): CapRequestConfig {
  const rc = capInternals().extractRequestConfig(req, srv)
  if (typeof rc !== 'object' || rc === null || typeof rc.method !== 'string' || typeof rc.url !== 'string') {
    return incompatible('extractRequestConfig returned an unexpected shape')
  }
  return rc
}

/** CAP's OData V2 → CDS conversion (`/Date(…)/` → ISO, Edm types). */
export function convertV2(data: unknown, target: unknown, returnType?: unknown): unknown {
  return capInternals().convertV2ResponseData(data, target, returnType)
}

/**
 * Per-service settings the stock `RemoteService.init()` derives from `cds.requires` (instance
 * properties, not public API): the effective kind (`odata-v4` → `odata`), the request timeout
 * (`credentials.requestTimeout`, default 60 s) and the CSRF settings.
 */
export function remoteSettings(srv: RemoteServiceInstance): {
  kind: string | undefined
  requestTimeout: number
  csrf: unknown
  csrfInBatch: unknown
} {
  return {
    kind: srv.kind,
    requestTimeout: typeof srv.requestTimeout === 'number' ? srv.requestTimeout : 60_000,
    csrf: srv.csrf,
    csrfInBatch: srv.csrfInBatch,
  }
}

/** The entity a response belongs to (CAP's resolved projection target), for V2 conversion. */
export function responseTarget(req: CdsRequest): unknown {
  const q = req.query
  return q?._transitions?.at(-1)?.target ?? q?._target ?? req.target
}

/** The declared return type of an operation call (used to unwrap V2 function results). */
export function returnTypeOf(req: CdsRequest): unknown {
  return req._returnType
}
