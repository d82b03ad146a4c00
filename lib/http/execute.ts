/**
 * `executeHttpRequest` with the SAP Cloud SDK's call shape (the commonly used subset), so code
 * written for `@sap-cloud-sdk/http-client` switches by changing one import.
 */
import { assertUsableJwt } from '../auth/jwt'
import { type CloudSdkDestination, fromCloudSdkDestination } from '../destination/cloud-sdk'
import type { Destination } from '../destination/types'
import { TransportError } from '../errors'
import { request, requestResolved } from './request'
import { resolveHttpDestination } from './resolve'
import type { RequestBody } from './types'

/**
 * `{ destinationName, jwt }` as in the Cloud SDK, a destination name, a Destination, or a Cloud SDK
 * destination object (`{ url, authentication?, username?, … }`).
 */
export type DestinationOrFetchOptions =
  | string
  | Destination
  | CloudSdkDestination
  | { destinationName: string; jwt?: string; tenant?: string }

// Cloud SDK destination objects are converted once, so repeated calls reuse our per-destination caches.
const converted = new WeakMap<object, Destination>()

function fromSdk(d: CloudSdkDestination): Destination {
  let hit = converted.get(d)
  if (!hit) {
    hit = fromCloudSdkDestination(d)
    converted.set(d, hit)
  }
  return hit
}

/** The Cloud SDK's request config (subset). */
export interface HttpRequestConfig {
  method?: string
  /** Path relative to the destination URL (e.g. `/sap/opu/odata/…`). */
  url?: string
  headers?: Record<string, string | number | undefined>
  params?: Record<string, string | number | boolean | undefined>
  data?: unknown
  /** Milliseconds, as in the SDK. */
  timeout?: number
  signal?: AbortSignal
  /** `json` (default: JSON bodies parsed), `text`, or `arraybuffer`. */
  responseType?: 'json' | 'text' | 'arraybuffer'
}

/** The Cloud SDK's third parameter (subset). */
export interface HttpRequestOptions {
  /** Default true for non-safe methods, as in the SDK (but the token is cached here). */
  fetchCsrfToken?: boolean
}

export interface HttpExecuteResponse<T = unknown> {
  status: number
  headers: Record<string, string | string[]>
  data: T
}

/** Thrown for responses with status ≥ 400; `response` mirrors the SDK's (axios) error shape. */
export class HttpStatusError extends TransportError {
  /** Status, headers and parsed body, as on the SDK's (axios) error; not enumerable, so logging the error does not dump the body. */
  declare readonly response: HttpExecuteResponse

  constructor(destination: string, response: HttpExecuteResponse) {
    super('HTTP_ERROR', `Request to destination "${destination}" failed with status ${response.status}.`, {
      details: { destination, status: response.status, requestSent: true },
    })
    Object.defineProperty(this, 'response', { value: response, enumerable: false })
  }
}

/** Our destinations carry `properties` and `source`; Cloud SDK objects do not. */
function isOurs(d: Destination | CloudSdkDestination): d is Destination {
  return 'properties' in d && 'source' in d
}

function isJson(contentType: string | string[] | undefined): boolean {
  const v = Array.isArray(contentType) ? contentType[0] : contentType
  return v !== undefined && /[/+]json\b/i.test(v)
}

/**
 * Sends a request the way `@sap-cloud-sdk/http-client`'s `executeHttpRequest` does: JSON bodies are
 * parsed into `data`, statuses ≥ 400 throw an error with `response`.
 * @example
 * // before: import { executeHttpRequest } from '@sap-cloud-sdk/http-client'
 * import { executeHttpRequest } from 'cap-connectivity'
 * const { data } = await executeHttpRequest({ destinationName: 'S4', jwt }, { method: 'GET', url: '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner' })
 * @throws HTTP_ERROR (status ≥ 400, with `response`), and every code of {@link request}
 */
export async function executeHttpRequest<T = unknown>(
  destination: DestinationOrFetchOptions,
  config: HttpRequestConfig = {},
  options: HttpRequestOptions = {},
): Promise<HttpExecuteResponse<T>> {
  const fetchOpts =
    typeof destination === 'object' && destination !== null && 'destinationName' in destination
      ? destination
      : undefined
  const jwt = fetchOpts?.jwt
  const tenant = fetchOpts?.tenant
  let target: string | Destination
  if (fetchOpts) target = fetchOpts.destinationName
  else if (typeof destination === 'string') target = destination
  else {
    const d = destination as Destination | CloudSdkDestination
    target = isOurs(d) ? d : fromSdk(d)
  }
  if (jwt !== undefined) assertUsableJwt(jwt)
  const init = {
    method: (config.method ?? 'GET').toUpperCase(),
    ...(config.url !== undefined ? { path: config.url } : {}),
    ...(config.params !== undefined ? { query: config.params } : {}),
    ...(config.headers !== undefined ? { headers: config.headers } : {}),
    ...(config.data !== undefined ? { body: config.data as RequestBody } : {}),
    ...(config.timeout !== undefined && config.timeout > 0 ? { timeout: config.timeout } : {}),
    ...(config.signal !== undefined ? { signal: config.signal } : {}),
    ...(options.fetchCsrfToken === false ? { csrf: false } : {}),
    ...(jwt !== undefined ? { jwt } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
  }
  const res =
    typeof target === 'string'
      ? await requestResolved(await resolveHttpDestination(target, jwt, tenant), init)
      : await request(target, init)
  let data: unknown
  if (config.responseType === 'arraybuffer') data = await res.arrayBuffer()
  else {
    const text = await res.text()
    data = text
    if (config.responseType !== 'text' && text !== '' && isJson(res.headers['content-type'])) {
      try {
        data = JSON.parse(text)
      } catch {
        // Like axios: a body that claims JSON but is not stays a string.
      }
    }
  }
  const response = { status: res.status, headers: { ...res.headers }, data: data as T }
  if (res.status >= 400)
    throw new HttpStatusError(typeof target === 'string' ? target : target.name, response)
  return response
}
