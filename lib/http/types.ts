/**
 * Public types of the HTTP client.
 */
import type { Readable } from 'node:stream'

/** A request body: text, bytes, a stream, or a value sent as JSON. */
export type RequestBody = string | Uint8Array | Readable | Record<string, unknown> | readonly unknown[]

/** How the user reaches the on-premise system through the connectivity HTTP proxy. */
export type PrincipalPropagationMode = 'forward' | 'exchange'

/** Options of {@link request}. */
export interface RequestInit {
  /** HTTP method (default `GET`). */
  method?: string
  /** Appended to the destination URL's path (`/sap/opu/odata/…`). */
  path?: string
  /** Query parameters, merged over the destination's `URL.queries.*`. */
  query?: Readonly<Record<string, string | number | boolean | undefined>>
  /** Request headers; they win over the destination's `URL.headers.*` and `sap-client`. */
  headers?: Readonly<Record<string, string | number | readonly string[] | undefined>>
  /** Request body; plain objects and arrays are sent as JSON. */
  body?: RequestBody
  /** The calling user's JWT (tenant, principal propagation, user token flows). */
  jwt?: string
  /** Tenant for destination lookup when there is no JWT. */
  tenant?: string
  /** Abort the request. */
  signal?: AbortSignal
  /** Milliseconds until the response headers (and between body chunks); default: the destination's `timeout`, else 60 000. */
  timeout?: number
  /** CSRF token handling for non-safe methods (default true; the destination property `csrf: false` also turns it off). */
  csrf?: boolean
  /** Principal propagation through the connectivity HTTP proxy: `forward` (default) or `exchange`. */
  principalPropagation?: PrincipalPropagationMode
}

/** A response. The body can be consumed once: through `body`, `text()`, `json()` or `arrayBuffer()`. */
export interface HttpResponse {
  readonly status: number
  readonly statusText: string
  /** Lower-case header names; repeated headers (e.g. `set-cookie`) are arrays. */
  readonly headers: Readonly<Record<string, string | string[]>>
  /** The body as a Node stream. */
  readonly body: Readable
  text(): Promise<string>
  json<T = unknown>(): Promise<T>
  arrayBuffer(): Promise<ArrayBuffer>
}
