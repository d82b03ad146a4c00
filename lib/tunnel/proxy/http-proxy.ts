/**
 * The local connectivity proxy's HTTP front-end: a forward proxy for absolute-URI `http://`
 * requests carrying SAP's headers, routed through the agents of the caller's account/location.
 */
import {
  type Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { stripForBackend } from '../principal/propagate'
import { tokenFromProxyAuthorization } from './auth'
import { rawPathOfAbsoluteUri, unsafePathReason } from './path-safety'
import { bufferBody, type Forward, HOP_BY_HOP, header, messageFor, respond } from './http-proxy-io'
import { listenOn } from './listen'
import { classifyFailure, type FailureKind, httpStatusFor } from './status'
import { StreamPool } from './stream-pool'
import type { ProxyAuthenticator, ProxyCaller, ProxyStreamOpener } from './types'

const debug = debuglog('cap-connectivity:proxy')

const MAX_LINE = 8192
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

export interface HttpConnectivityProxyOptions {
  readonly openStream: ProxyStreamOpener
  readonly authenticate: ProxyAuthenticator
  /** Bind address; default 127.0.0.1 (loopback only). */
  readonly host?: string
  /** Port; default 20003 as on BTP; 0 picks a free one. */
  readonly port?: number
  /** Largest request body buffered so an idempotent request can be retried on another agent; default 1 MiB. */
  readonly retryBufferBytes?: number
  /** Time until the backend's response head must arrive; default 60 000 ms. */
  readonly responseTimeoutMs?: number
  /**
   * Reuse idle tunnel streams for idempotent requests of the same caller, location, target and
   * user (default true). Non-idempotent requests always get a fresh stream.
   */
  readonly keepAliveStreams?: boolean
}

/**
 * HTTP forward proxy (SAP connectivity proxy semantics): 407 bad/missing proxy auth, 403 denied,
 * 400 unsafe path, 405 `https://` and CONNECT, 503 no agent, 502 backend unreachable.
 * @example const proxy = new HttpConnectivityProxy({ openStream, authenticate, port: 0 }); const { port } = await proxy.listen()
 */
export class HttpConnectivityProxy {
  readonly #opts: HttpConnectivityProxyOptions
  readonly #server: Server
  readonly #pool: StreamPool | undefined
  /** Counters since start: requests handled, requests retried on another agent, failed stream opens/forwards answered with an error. */
  readonly stats = { requests: 0, retried: 0, failed: 0 }

  constructor(options: HttpConnectivityProxyOptions) {
    if (typeof options.openStream !== 'function') throw new TypeError('openStream must be a function')
    if (typeof options.authenticate !== 'function') throw new TypeError('authenticate must be a function')
    this.#opts = options
    this.#pool = options.keepAliveStreams === false ? undefined : new StreamPool()
    // 8 KiB per header line as BTP; Node counts the whole head, so allow a bit more in total.
    this.#server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 120_000 }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        debug('proxy handler failed: %s', (err as Error).message)
        respond(res, 502, 'Proxy error')
      })
    })
    this.#server.on('connect', (_req, socket) => {
      // TLS must go through SOCKS5 as on BTP; CONNECT is not offered.
      socket.on('error', () => {})
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
    this.#server.on('upgrade', (_req, socket) => {
      // WebSocket and other upgrades are outside the agents' allowlist model: refuse them clearly.
      socket.on('error', () => {})
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    })
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      else socket.destroy()
    })
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return listenOn(this.#server, this.#opts.port ?? 20003, this.#opts.host ?? '127.0.0.1')
  }

  /** Stops accepting and closes idle and active connections. */
  close(): Promise<void> {
    this.#pool?.destroy()
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++
    const uri = req.url ?? ''
    // BTP answers 4xx for a request line or a header line over 8 KiB; Node only bounds the whole head.
    if (uri.length > MAX_LINE) return respond(res, 414, 'Request URI longer than 8192 bytes')
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if ((req.rawHeaders[i]?.length ?? 0) + (req.rawHeaders[i + 1]?.length ?? 0) + 2 > MAX_LINE) {
        return respond(res, 431, 'Header line longer than 8192 bytes')
      }
    }
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase()
    if (scheme === 'https') return respond(res, 405, 'https:// is not proxied; use the SOCKS5 proxy for TLS')
    if (scheme !== 'http') return respond(res, 400, 'An absolute http:// request URI is required')
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      return respond(res, 400, 'Malformed request URI')
    }
    let caller: ProxyCaller
    const token = tokenFromProxyAuthorization(header(req, 'proxy-authorization'))
    try {
      caller = await this.#opts.authenticate(token)
    } catch (err) {
      debug('proxy auth refused: %s', (err as Error).message)
      res.setHeader('Proxy-Authenticate', 'Bearer realm="cap-connectivity"')
      return respond(res, 407, 'Proxy authentication required: missing, invalid or expired token')
    }
    const path = rawPathOfAbsoluteUri(uri)
    const unsafe = unsafePathReason(path)
    if (unsafe !== undefined) return respond(res, 400, `Request path refused (${unsafe})`)
    const locationId = header(req, 'sap-connectivity-scc-location_id') ?? ''
    const userAuth = header(req, 'sap-connectivity-authentication')
    const principal =
      userAuth !== undefined
        ? /^\s*Bearer\s+(\S+)\s*$/i.exec(userAuth)?.[1]
        : caller.isUserToken
          ? token
          : undefined
    const method = req.method ?? 'GET'
    const retryable = IDEMPOTENT.has(method)
    const body = retryable ? await bufferBody(req, this.#opts.retryBufferBytes ?? 1024 * 1024) : undefined
    const ac = new AbortController()
    res.on('close', () => ac.abort())
    const fwd: Forward = {
      req,
      res,
      caller,
      target: { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port) },
      hostHeader: url.host,
      path,
      locationId,
      principal,
      body: body === null ? undefined : body,
      signal: ac.signal,
    }
    const mayRetry = retryable && body !== null
    await this.#attempt(fwd, mayRetry, mayRetry && this.#pool !== undefined)
  }

  #open(fwd: Forward, signal: AbortSignal | undefined): Promise<Duplex> {
    return this.#opts.openStream({
      account: fwd.caller.account,
      locationId: fwd.locationId,
      target: fwd.target,
      kind: 'http',
      ...(fwd.principal === undefined ? {} : { principal: fwd.principal }),
      ...(signal === undefined ? {} : { signal }),
    })
  }

  /** One try: a pooled keep-alive stream (idempotent requests) or a fresh stream of its own. */
  async #attempt(fwd: Forward, mayRetry: boolean, pooled: boolean): Promise<void> {
    let stream: Duplex | undefined
    let via: { agent: Agent } | { createConnection: () => import('node:net').Socket }
    if (pooled && this.#pool !== undefined) {
      const key = StreamPool.key({
        ...fwd.target,
        account: fwd.caller.account,
        locationId: fwd.locationId,
        principal: fwd.principal,
      })
      // A pooled stream outlives this request, so it is not tied to the caller's abort signal.
      via = { agent: this.#pool.agentFor(key, () => this.#open(fwd, undefined)) }
    } else {
      try {
        stream = await this.#open(fwd, fwd.signal)
      } catch (err) {
        return this.#failed(fwd, err, mayRetry)
      }
      if (fwd.signal.aborted) {
        stream.destroy()
        return
      }
      const own = stream
      via = { createConnection: () => own as unknown as import('node:net').Socket }
    }
    await new Promise<void>((done) => {
      let responded = false
      const headers: Record<string, string | string[]> = {}
      for (const [k, v] of Object.entries(stripForBackend(fwd.req.headers)))
        if (v !== undefined) headers[k] = v
      headers.host = fwd.hostHeader
      if (fwd.body !== undefined) {
        delete headers['transfer-encoding']
        if (fwd.body.length > 0 || fwd.req.headers['content-length'] !== undefined) {
          headers['content-length'] = String(fwd.body.length)
        }
      }
      const upstream = request({
        method: fwd.req.method,
        path: fwd.path,
        headers,
        setHost: false,
        ...via,
      })
      const timer = setTimeout(() => {
        if (!responded)
          upstream.destroy(Object.assign(new Error('response timeout'), { code: 'HTTP_TIMEOUT' }))
      }, this.#opts.responseTimeoutMs ?? 60_000)
      const onAbort = (): void => {
        upstream.destroy()
        stream?.destroy()
      }
      fwd.signal.addEventListener('abort', onAbort, { once: true })
      upstream.on('response', (r) => {
        responded = true
        clearTimeout(timer)
        const out: Record<string, string | string[]> = {}
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v
        fwd.res.writeHead(r.statusCode ?? 502, r.statusMessage, out)
        r.pipe(fwd.res)
        r.on('end', () => {
          fwd.signal.removeEventListener('abort', onAbort)
          done()
        })
        r.on('error', () => {
          fwd.res.destroy()
          done()
        })
      })
      upstream.on('error', (err) => {
        clearTimeout(timer)
        fwd.signal.removeEventListener('abort', onAbort)
        stream?.destroy()
        if (responded) {
          fwd.res.destroy()
          done()
          return
        }
        if ((err as { code?: string }).code === 'HTTP_TIMEOUT') {
          respond(fwd.res, 504, 'The backend did not answer in time')
          done()
          return
        }
        this.#failed(fwd, err, mayRetry).then(done, done)
      })
      if (fwd.body !== undefined) upstream.end(fwd.body)
      else fwd.req.pipe(upstream)
    })
  }

  async #failed(fwd: Forward, err: unknown, mayRetry: boolean): Promise<void> {
    if (fwd.signal.aborted) return
    const kind: FailureKind = classifyFailure(err)
    // The agent's session died (or the stream closed) before any response byte: an idempotent
    // request is safe to send once more, and the opener now picks another live agent.
    if (mayRetry && (kind === 'session-lost' || kind === 'other')) {
      debug('retrying %s once after: %s', fwd.req.method, (err as Error).message)
      this.stats.retried++
      // The retry takes a fresh stream: the pool may still hold streams of the dead session.
      return this.#attempt(fwd, false, false)
    }
    const status = httpStatusFor(kind)
    this.stats.failed++
    debug('request to %s:%d failed (%s): %s', fwd.target.host, fwd.target.port, kind, (err as Error).message)
    respond(fwd.res, status, messageFor(status, fwd))
  }
}
