/**
 * HTTP mappings at the agent: the stream is handed to a non-listening `http.Server`, each request
 * is checked (Host, normalised path against the mapping's resources), cleaned of proxy and SAP
 * connectivity headers, passed through the extension hooks (principal propagation) and forwarded to
 * the internal host. Denials answer 403 and are written to the audit log.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { isConnectivityError } from '../errors'
import { type AgentConfig, type HttpMapping, internalPort } from './agent-config'
import { hostMatches, normaliseTarget, pathAllowed } from './http-guard'
import { proxyStatus } from './proxy-status'

/** What a hook sees and may change for one allowed request. */
export interface AgentHttpContext {
  readonly mapping: HttpMapping
  readonly config: AgentConfig
  /** The user JWT carried on the stream (OPEN metadata `principal`), if any. Never log it. */
  readonly principal: string | undefined
  readonly method: string
  /** Normalised path, query excluded. */
  readonly path: string
  /** Outgoing headers to the backend (mutable); Proxy-Authorization and SAP-Connectivity-* are already gone. */
  readonly headers: Record<string, string | string[]>
  /** Client certificate for mTLS to an https backend (a hook may set it). */
  tls: { cert?: string | Buffer; key?: string | Buffer } | undefined
}

/** Runs after the allowlist check and before forwarding; throw a ConnectivityError to refuse. */
export type AgentHttpHook = (ctx: AgentHttpContext) => void | Promise<void>

/** One audit line: the decision and who/what, never a secret. */
export interface AuditEntry {
  readonly time: string
  readonly decision: 'allowed' | 'denied'
  readonly reason?: string
  readonly protocol: 'HTTP' | 'TCP'
  readonly caller?: string | undefined
  readonly target: string
  readonly method?: string
  readonly path?: string
  readonly status?: number
}

export interface HttpStreamContext {
  readonly mapping: HttpMapping
  readonly config: AgentConfig
  readonly virtualPort: number
  readonly principal: string | undefined
  readonly caller: string | undefined
  readonly hooks: readonly AgentHttpHook[]
  readonly audit: (entry: AuditEntry) => void
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
])

const contexts = new WeakMap<object, HttpStreamContext>()
const keepAlive = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }

function statusOfHookError(err: unknown): number {
  const code = isConnectivityError(err) ? err.code : ''
  if (code === 'TOKEN_MISSING' || code === 'TOKEN_INVALID' || code === 'TUNNEL_AUTH_FAILED') return 401
  if (code === 'ACCESS_DENIED') return 403
  return 502
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'proxy-status': proxyStatus('cap-connectivity-agent', status),
  })
  res.end(text)
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ctx = contexts.get(req.socket)
  if (!ctx) return reply(res, 500, 'no mapping context\n')
  const { mapping } = ctx
  const target = `${mapping.virtualHost}:${ctx.virtualPort}`
  const method = req.method ?? 'GET'
  const base = { protocol: 'HTTP' as const, caller: ctx.caller, target, method }
  const deny = (status: number, reason: string, path?: string): void => {
    ctx.audit({
      time: new Date().toISOString(),
      decision: 'denied',
      reason,
      ...base,
      ...(path ? { path } : {}),
      status,
    })
    reply(res, status, status === 403 ? 'Forbidden by the agent access control\n' : `${reason}\n`)
  }
  if (!hostMatches(mapping, req.headers.host)) return deny(403, 'Host header does not match the virtual host')
  const checked = normaliseTarget(req.url ?? '')
  if (!checked.ok) return deny(403, checked.reason)
  if (!pathAllowed(mapping, checked.path)) return deny(403, 'path not allowed', checked.path)
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k.startsWith('sap-connectivity-')) continue
    headers[k] = v
  }
  const connection = String(req.headers.connection ?? '').toLowerCase()
  for (const name of connection.split(',')) delete headers[name.trim()]
  const port = internalPort(mapping, ctx.virtualPort)
  if (mapping.hostInHeader === 'virtual') headers.host = req.headers.host ?? target
  else {
    headers.host = `${mapping.internalHost}:${port}`
    headers['x-forwarded-host'] = req.headers.host ?? target
  }
  const hookCtx: AgentHttpContext = {
    mapping,
    config: ctx.config,
    principal: ctx.principal,
    method,
    path: checked.path,
    headers,
    tls: undefined,
  }
  try {
    for (const hook of ctx.hooks) await hook(hookCtx)
  } catch (err) {
    const status = statusOfHookError(err)
    return deny(status, isConnectivityError(err) ? err.code : 'hook failed', checked.path)
  }
  const secure = mapping.internalProtocol === 'https'
  const withCert = hookCtx.tls?.cert !== undefined
  const upstream = (secure ? https : http).request({
    host: mapping.internalHost,
    port,
    method,
    path: checked.path + checked.query,
    headers: hookCtx.headers,
    // Requests with a per-user client certificate must not share pooled connections.
    agent: withCert ? false : secure ? keepAlive.https : keepAlive.http,
    ...(withCert ? { cert: hookCtx.tls?.cert, key: hookCtx.tls?.key } : {}),
  })
  upstream.on('response', (up) => {
    ctx.audit({
      time: new Date().toISOString(),
      decision: 'allowed',
      ...base,
      path: checked.path,
      status: up.statusCode ?? 0,
    })
    const out: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(up.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'host') out[k] = v
    res.writeHead(up.statusCode ?? 502, up.statusMessage, out)
    up.pipe(res)
    up.on('error', () => res.destroy())
  })
  upstream.on('error', (err: Error & { code?: string }) => {
    ctx.audit({
      time: new Date().toISOString(),
      decision: 'allowed',
      reason: `backend error ${err.code ?? ''}`,
      ...base,
      path: checked.path,
      status: 502,
    })
    reply(res, 502, `Backend ${mapping.internalHost}:${port} unreachable (${err.code ?? 'error'})\n`)
  })
  req.pipe(upstream)
  req.on('error', () => upstream.destroy())
}

let server: http.Server | undefined

/** Serves HTTP requests arriving on a tunnel stream for one HTTP mapping. */
export function serveHttpStream(stream: Duplex, ctx: HttpStreamContext): void {
  if (!server) {
    server = http.createServer({ requireHostHeader: false, maxHeaderSize: 16 * 1024 }, (req, res) => {
      handle(req, res).catch(() => reply(res, 500, 'internal error\n'))
    })
    server.keepAliveTimeout = 60_000
    // A client may half-close after its request (FIN) and still wait for the answer; without this
    // Node aborts the in-flight request on the FIN.
    ;(server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
    // Upgrades (WebSocket) are not part of the allowlist model: refuse them.
    server.on('upgrade', (_req, socket: Duplex) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
    server.on('clientError', (_err, socket: Duplex) => {
      if (!socket.destroyed)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
  }
  contexts.set(stream, ctx)
  server.emit('connection', stream)
}
