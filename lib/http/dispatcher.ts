/**
 * `createDispatcher(destination)`: an undici Dispatcher for `fetch(url, { dispatcher })` (and
 * `undici.request`) that sends over the destination's route with its headers, authentication,
 * connectivity proxy headers and cached CSRF token — exactly what `request` does.
 */
import type { Dispatcher } from 'undici'
import { assertUsableJwt } from '../auth/jwt'
import type { Destination } from '../destination/types'
import { TransportError } from '../errors'
import { csrfToken, needsCsrf } from './csrf'
import { fetchCsrf, proxyStatusError } from './exchange'
import { type HeaderMap, mergeCookies, validHeaders } from './headers'
import { type Plan, planRequest, requestTarget } from './plan'
import { DEFAULT_TIMEOUT_MS } from './prepare'
import { resolveHttpDestination } from './resolve'
import type { PrincipalPropagationMode } from './types'

export interface CreateDispatcherOptions {
  /** The calling user's JWT. */
  jwt?: string
  tenant?: string
  principalPropagation?: PrincipalPropagationMode
  /** CSRF token for non-safe methods (default true). Without retry: a fetch body cannot be replayed. */
  csrf?: boolean
}

type RawHeaders = Dispatcher.DispatchOptions['headers']

function toRecord(raw: RawHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  if (!raw) return out
  if (Array.isArray(raw)) {
    if (raw.length > 0 && Array.isArray(raw[0])) {
      for (const [k, v] of raw as unknown as [string, string][]) out[String(k)] = String(v)
    } else {
      for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = String(raw[i + 1])
    }
    return out
  }
  if (typeof (raw as Iterable<[string, string]>)[Symbol.iterator] === 'function') {
    for (const [k, v] of raw as Iterable<[string, string]>) out[k] = String(v)
    return out
  }
  for (const [k, v] of Object.entries(raw as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v)
  }
  return out
}

interface AnyHandler {
  onResponseError?: (controller: unknown, err: Error) => void
  onError?: (err: Error) => void
}

type DispatcherCtor = new (destination: string | Destination, options: CreateDispatcherOptions) => Dispatcher
let dispatcherCtor: DispatcherCtor | undefined

// undici is loaded on first use, not when the package is required, to keep start-up cheap.
function destinationDispatcher(): DispatcherCtor {
  if (dispatcherCtor) return dispatcherCtor
  const { Dispatcher: Base } = require('undici') as typeof import('undici')
  class DestinationDispatcher extends Base {
    readonly #destination: string | Destination
    readonly #options: CreateDispatcherOptions

    constructor(destination: string | Destination, options: CreateDispatcherOptions) {
      super()
      this.#destination = destination
      this.#options = options
    }

    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      this.#run(opts, handler).catch((err: Error) => {
        const h = handler as unknown as AnyHandler
        if (typeof h.onResponseError === 'function') h.onResponseError(null, err)
        else h.onError?.(err)
      })
      return true
    }

    async #run(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): Promise<void> {
      const { jwt, tenant } = this.#options
      if (jwt !== undefined) assertUsableJwt(jwt)
      // Names are resolved per request so the destination cache decides about freshness.
      const d = await resolveHttpDestination(this.#destination, jwt, tenant)
      const plan = await planRequest(d, {
        jwt,
        tenant,
        principalPropagation: this.#options.principalPropagation,
      })
      const origin =
        opts.origin === undefined ? plan.prepared.url.origin : new URL(String(opts.origin)).origin
      if (origin !== plan.prepared.url.origin) {
        // Never send the destination's credentials to another host.
        throw new TransportError(
          'REQUEST_INVALID',
          `The URL's origin ${origin} is not the origin of destination "${d.name}"; the request was not sent.`,
          {
            details: { destination: d.name, requestSent: false },
          },
        )
      }
      const caller = validHeaders(toRecord(opts.headers), 'caller', d.name)
      if (plan.principalPropagation) delete caller.authorization
      const headers: HeaderMap = { ...plan.headers, ...caller }
      const method = String(opts.method).toUpperCase()
      if (
        this.#options.csrf !== false &&
        plan.prepared.csrf &&
        needsCsrf(method) &&
        headers['x-csrf-token'] === undefined
      ) {
        const entry = await csrfToken(plan.csrfKey, () =>
          fetchCsrf(plan, opts.path, headers, plan.prepared.timeoutMs ?? DEFAULT_TIMEOUT_MS, undefined),
        )
        if (entry) {
          headers['x-csrf-token'] = entry.token
          const cookie = mergeCookies(headers.cookie, entry.cookies)
          if (cookie) headers.cookie = cookie
        }
      }
      Object.assign(headers, plan.proxyHeaders)
      const { path, host } = requestTarget(plan, opts.path)
      if (host) headers.host = host
      const what = `${method} ${plan.prepared.url.origin}${String(opts.path).split('?', 1)[0]} (destination "${d.name}")`
      plan.dispatcher.dispatch(
        { ...opts, origin: plan.route.poolOrigin, path, headers },
        plan.route.kind === 'http-proxy' ? proxyAwareHandler(handler, plan, what) : handler,
      )
    }

    override async close(): Promise<void> {
      // Pools are shared per route and closed when idle; nothing is owned by this dispatcher.
    }

    override async destroy(): Promise<void> {}
  }
  dispatcherCtor = DestinationDispatcher
  return dispatcherCtor
}

interface Controller {
  abort(reason: Error): void
}
type NewHandler = {
  onRequestStart?: (c: Controller, ctx: unknown) => void
  onRequestUpgrade?: (...args: unknown[]) => void
  onResponseStart?: (
    c: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
  ) => void
  onResponseData?: (c: Controller, chunk: Buffer) => void
  onResponseEnd?: (c: Controller, trailers: unknown) => void
  onResponseError?: (c: Controller | null, err: Error) => void
}

/** Turns the proxy's own 407/503/403 answers into coded errors, as request() does. */
function proxyAwareHandler(
  handler: Dispatcher.DispatchHandler,
  plan: Plan,
  what: string,
): Dispatcher.DispatchHandler {
  const h = handler as unknown as NewHandler
  let failed = false
  const wrapped: NewHandler = {
    onRequestStart: (c, ctx) => h.onRequestStart?.(c, ctx),
    onResponseStart: (c, status, headers, text) => {
      const err = proxyStatusError(plan, status, headers, what)
      if (err) {
        failed = true
        c.abort(err)
        return
      }
      h.onResponseStart?.(c, status, headers, text)
    },
    onResponseData: (c, chunk) => {
      if (!failed) h.onResponseData?.(c, chunk)
    },
    onResponseEnd: (c, trailers) => {
      if (!failed) h.onResponseEnd?.(c, trailers)
    },
    onResponseError: (c, err) => h.onResponseError?.(c, err),
  }
  if (h.onRequestUpgrade) wrapped.onRequestUpgrade = (...args) => h.onRequestUpgrade?.(...args)
  return wrapped as unknown as Dispatcher.DispatchHandler
}

/**
 * Creates an undici Dispatcher bound to a destination, for undici's `fetch` or `request`.
 * @example
 * import { fetch } from 'undici'
 * const dispatcher = createDispatcher('S4', { jwt })
 * const res = await fetch('http://s4.example:44300/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder', { dispatcher })
 * @throws (through fetch) every code of `request`; REQUEST_INVALID when the URL's origin is not the destination's.
 */
export function createDispatcher(
  destination: string | Destination,
  options: CreateDispatcherOptions = {},
): Dispatcher {
  if (typeof destination !== 'string' && (typeof destination !== 'object' || destination === null)) {
    throw new TypeError('createDispatcher: destination must be a destination name or a Destination object')
  }
  if (options.jwt !== undefined && typeof options.jwt !== 'string')
    throw new TypeError('createDispatcher: "jwt" must be a string')
  return new (destinationDispatcher())(destination, options)
}
