/**
 * The slice of `@sap/cds` the plugin uses, typed locally: `@sap/cds` is an optional peer
 * dependency without bundled types, and this keeps `any` out of the plugin. Loaded lazily so the
 * rest of the package never needs CAP.
 */

/** A CAP request as seen by a remote service's `on` handler. */
export interface CdsRequest {
  readonly event: string
  readonly query?: CdsQuery
  readonly path?: string
  readonly method?: string
  readonly data?: Record<string, unknown>
  readonly headers: Record<string, string | string[] | undefined>
  readonly target?: CdsDefinition & {
    readonly keys?: Record<string, unknown>
    readonly actions?: Record<string, unknown>
  }
  readonly context?: {
    readonly headers?: Record<string, unknown>
    readonly http?: { readonly req?: { readonly headers?: Record<string, unknown> } }
  }
  readonly _returnType?: unknown
  reject(status: number, message: string): never
}

export interface CdsQuery {
  readonly SELECT?: { readonly one?: boolean }
  readonly _transitions?: readonly { readonly target?: CdsDefinition }[]
  readonly _target?: CdsDefinition
}

export interface CdsDefinition {
  readonly name?: string
  readonly kind?: string
}

/** `cds.context`: the current user, tenant and correlation id. */
export interface CdsContext {
  readonly id?: string
  readonly tenant?: string
  readonly user?: {
    readonly id?: string
    readonly is?: (role: string) => boolean
    readonly authInfo?: { readonly token?: { readonly jwt?: unknown } }
  }
  readonly http?: { readonly req?: { readonly headers?: Record<string, unknown> } }
}

export interface CdsLogger {
  readonly _debug?: boolean
  readonly _info?: boolean
  debug(...args: unknown[]): void
  info(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}

/** Options of a `cds.requires.<name>` entry (after kind linking). */
export interface RemoteServiceOptions {
  readonly kind?: string
  readonly connectivity?: boolean | Record<string, unknown>
  readonly credentials?: Readonly<Record<string, unknown>>
  readonly csrf?: boolean | { readonly method?: string; readonly url?: string }
  readonly csrfInBatch?: boolean | { readonly method?: string; readonly url?: string }
  readonly forwardAuthToken?: boolean
  readonly [key: string]: unknown
}

export type CdsHandler = (
  this: RemoteServiceInstance,
  req: CdsRequest,
  next: () => Promise<unknown>,
) => unknown

/** What the stock RemoteService instance exposes after `init()` (see cds-internals.ts for the internal ones). */
export interface RemoteServiceInstance {
  readonly name: string
  readonly options: RemoteServiceOptions
  readonly actions: Record<string, unknown>
  kind?: string
  requestTimeout?: number
  path?: string
  csrf?: RemoteServiceOptions['csrf']
  csrfInBatch?: RemoteServiceOptions['csrfInBatch']
  on(event: string, handler: CdsHandler): this
  init(): Promise<void> | void
}

export type RemoteServiceClass = new (...args: never[]) => RemoteServiceInstance

export interface CdsError extends Error {
  status?: number
  statusCode?: number
  code?: string
  reason?: unknown
}

/** The facade of `require('@sap/cds')` we rely on. */
export interface Cds {
  readonly version: string
  readonly root: string
  readonly env: {
    readonly profiles?: readonly string[]
    readonly requires: Record<string, unknown>
    readonly [key: string]: unknown
  }
  readonly context?: CdsContext
  readonly RemoteService: RemoteServiceClass
  readonly services: Record<string, unknown>
  log(name: string): CdsLogger
  /** `cds.error(…)` throws; `new cds.error(…)` returns the error. */
  readonly error: new (opts: {
    status: number
    message: string
    code?: string
    reason?: unknown
  }) => CdsError
  on(event: string, listener: (...args: never[]) => void): unknown
}

let cached: Cds | undefined

/** The app's `@sap/cds` (peer dependency; one copy per app). */
export function loadCds(): Cds {
  if (!cached) cached = require('@sap/cds') as Cds
  return cached
}
