/**
 * The remote service class behind the `odata-v2`, `odata`/`odata-v4` and `rest` kinds once
 * cap-connectivity is installed: CAP's RemoteService with one `on('*')` handler, registered before
 * CAP's own, that sends the request through cap-connectivity's destination resolver and transport
 * (direct, connectivity proxy, SOCKS5, tunnel). Everything else — projections, operation URL
 * building, before/after handlers, mocking — stays CAP's. `"connectivity": false` in a
 * `cds.requires` entry leaves the stock behaviour untouched.
 */
import type { CdsHandler, CdsRequest, RemoteServiceClass, RemoteServiceInstance } from './cds'
import { loadCds } from './cds'
import { buildRequestConfig, remoteSettings, responseTarget, returnTypeOf } from './cds-internals'
import { remoteStatusError, transportError, unexpectedContentError } from './errors'
import { pluginSettings } from './settings'
import { purgeForKind, unpackBatchedGet } from './response'
import { statusOf } from './status'
import { type RemoteTarget, sendRemote, targetFor } from './transport'
import { devJwt, incomingJwt } from './user-token'

const cds = loadCds()
const LOG = cds.log('connectivity')

function normalizeHeaders(base: Record<string, string | number>, req: CdsRequest): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) out[k.toLowerCase()] = String(v)
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
  }
  return out
}

function bodyOf(data: unknown): string | Buffer | undefined {
  if (data === undefined || data === null) return undefined
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data
  return JSON.stringify(data)
}

// Per-service state lives here (keyed by the service object), not on CAP's objects.
const targets = new WeakMap<object, RemoteTarget>()

async function send(srv: RemoteServiceInstance, req: CdsRequest): Promise<unknown> {
  const settings = pluginSettings()
  // Handlers run with `this` = the per-request transaction, whose prototype chain leads to the service.
  let owner: object | null = srv
  while (owner && !targets.has(owner)) owner = Object.getPrototypeOf(owner) as object | null
  const target = owner ? targets.get(owner) : undefined
  if (!target) throw new Error(`cap-connectivity: service "${srv.name}" was not initialised`)
  const rc = buildRequestConfig(req, srv)
  const headers = normalizeHeaders(rc.headers, req)
  const correlationId = headers['x-correlation-id'] ?? cds.context?.id
  if (correlationId) {
    headers['x-correlation-id'] = correlationId
    headers['x-correlationid'] = correlationId
  }
  const ctx = cds.context
  let jwt = incomingJwt(ctx, req)
  if (!jwt && settings.devToken && ctx?.user?.id && ctx.user.id !== 'anonymous') {
    jwt = devJwt(settings.devToken, ctx.user.id, ctx.tenant)
  }
  if (target.forwardAuthToken) {
    if (jwt) headers.authorization = `Bearer ${jwt}`
    else LOG.warn(`No user token to forward for remote service "${srv.name}" (forwardAuthToken)`)
  }
  const service = remoteSettings(srv)
  const status = statusOf(srv.name, service.kind ?? '', target.label)
  status.requests++
  const info = { service: srv.name, destination: target.label, method: rc.method, path: rc.url }
  const csrf = rc._autoBatchedGet ? service.csrfInBatch : service.csrf
  const started = LOG._debug ? performance.now() : 0
  let res: Awaited<ReturnType<typeof sendRemote>>
  try {
    res = await sendRemote(target, {
      method: rc.method,
      path: rc.url,
      headers,
      body: bodyOf(rc.data),
      ...(jwt ? { jwt } : {}),
      ...(ctx?.tenant ? { tenant: ctx.tenant } : {}),
      timeoutMs: service.requestTimeout,
      ...(csrf && rc.method !== 'GET' && rc.method !== 'HEAD' ? { csrf } : {}),
    })
  } catch (err) {
    const e = transportError(err, info)
    status.failures++
    status.lastError = e.message
    status.lastErrorCode = typeof e.code === 'string' ? e.code : undefined
    status.lastStatus = e.status
    status.lastAt = new Date().toISOString()
    LOG.warn(e.message)
    throw e
  }
  status.lastAt = new Date().toISOString()
  if (LOG._debug)
    LOG.debug(
      rc.method,
      `${target.label}${rc.url}`,
      res.status,
      `${(performance.now() - started).toFixed(1)} ms`,
    )

  let body: unknown = res.body
  let httpStatus = res.status
  if (rc._autoBatchedGet && typeof body === 'string' && httpStatus < 400) {
    const inner = unpackBatchedGet(body)
    httpStatus = inner.status
    body = inner.body
  }
  if (httpStatus >= 400) {
    const e = remoteStatusError(httpStatus, body, info)
    status.failures++
    status.lastError = e.message
    status.lastErrorCode = undefined
    status.lastStatus = httpStatus
    LOG.warn(e.message)
    throw e
  }
  status.lastStatus = httpStatus
  status.lastError = undefined
  status.lastErrorCode = undefined
  const accept = String(headers.accept ?? '')
  if (res.contentType.includes('text/html') && !/text\/html|text\/\*|\*\/\*/.test(accept)) {
    status.failures++
    throw unexpectedContentError(res.contentType, info)
  }
  const result = purgeForKind(service.kind, body, responseTarget(req), returnTypeOf(req))
  return req.query?.SELECT?.one && Array.isArray(result) ? result[0] : result
}

const handler: CdsHandler = async function (this: RemoteServiceInstance, req, next) {
  // Operations: CAP's own handlers (registered after ours) build the URL and call srv.send(),
  // which comes back here as a plain method + path request.
  const ops = (req.target?.actions ?? this.actions) as Record<string, unknown> | undefined
  if (ops && req.event in ops) return next()
  if (!req.query && typeof req.path !== 'string') return next()
  // Some systems reject key fields in PATCH payloads (as CAP's own client avoids too).
  if (req.event === 'UPDATE' && req.target?.keys && req.data) {
    for (const k of Object.keys(req.target.keys)) delete req.data[k]
  }
  return send(this, req)
}

const Base = cds.RemoteService as RemoteServiceClass

/**
 * CAP remote service over cap-connectivity. Selected by config alone through the kinds this
 * package registers (`odata-v2`, `odata`, `odata-v4`, `rest`).
 */
export class ConnectivityRemoteService extends Base {
  override init(): Promise<void> | void {
    const opts = this.options
    if (opts.connectivity !== false && opts.credentials) {
      targets.set(this, targetFor(this.name, opts))
      // Registered before super.init() so it runs ahead of CAP's stock transport handler.
      this.on('*', handler)
      LOG._debug && LOG.debug(`remote service "${this.name}" uses cap-connectivity`)
    }
    return super.init()
  }
}
