/**
 * HttpConnectConnector: a tunnel through an HTTP forward proxy with `CONNECT host:port` (the
 * corporate-proxy case: `https_proxy`), optionally wrapped in TLS end to end.
 */
import { isIP, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TransportError } from '../errors'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import {
  awaitHandshakeBytes,
  checkProxyAddress,
  openProxyTunnel,
  type ProxyConnectorOptions,
} from './proxy-tunnel'

export interface HttpConnectConnectorOptions extends ProxyConnectorOptions {
  /** Value of `Proxy-Authorization` (e.g. from credentials in the proxy URL). Secret: never logged. */
  readonly proxyAuthorization?: string
}

const MAX_HEAD = 16 * 1024

async function readHead(socket: Socket, proxy: string): Promise<string> {
  let buf = Buffer.alloc(0)
  for (;;) {
    const chunk = socket.read() as Buffer | null
    if (chunk) {
      buf = Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end >= 0) {
        // Bytes after the head belong to the tunnelled stream.
        if (end + 4 < buf.length) socket.unshift(buf.subarray(end + 4))
        return buf.subarray(0, end).toString('latin1')
      }
      if (buf.length > MAX_HEAD) {
        throw new TransportError('PROXY_FAILED', `Proxy ${proxy} sent an oversized CONNECT response.`, {
          details: { requestSent: false },
        })
      }
      continue
    }
    await awaitHandshakeBytes(socket, `Proxy ${proxy} closed the connection during CONNECT.`)
  }
}

/**
 * Opens a CONNECT tunnel through an HTTP proxy.
 * @throws CONNECT_FAILED, CONNECT_TIMEOUT, PROXY_AUTH_FAILED (407), ACCESS_DENIED (403), PROXY_FAILED — `requestSent: false`
 */
export class HttpConnectConnector implements Connector {
  readonly route = 'http-connect'
  readonly #opts: HttpConnectConnectorOptions

  constructor(options: HttpConnectConnectorOptions) {
    checkProxyAddress('HttpConnectConnector', options)
    this.#opts = options
  }

  connect(target: ConnectTarget, ctx: ConnectContext = {}): Promise<Duplex> {
    return openProxyTunnel({
      options: this.#opts,
      target,
      ctx,
      kind: 'proxy',
      handshake: async (socket, proxy, what) => {
        const authority =
          isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
        const auth = this.#opts.proxyAuthorization
          ? `Proxy-Authorization: ${this.#opts.proxyAuthorization}\r\n`
          : ''
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`)
        const head = await readHead(socket, proxy)
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
        if (status !== 200) throw statusError(status, what)
      },
    })
  }
}

function statusError(status: number, what: string): TransportError {
  const details = { requestSent: false, status }
  if (status === 407)
    return new TransportError(
      'PROXY_AUTH_FAILED',
      `Proxy refused CONNECT to ${what} with 407; check the proxy credentials.`,
      { details },
    )
  if (status === 403)
    return new TransportError(
      'ACCESS_DENIED',
      `Proxy denied CONNECT to ${what} (403); ask for the target to be allowed.`,
      { details },
    )
  if (status === 502 || status === 503 || status === 504) {
    return new TransportError('CONNECT_FAILED', `Proxy could not reach ${what} (${status}).`, { details })
  }
  return new TransportError(
    'PROXY_FAILED',
    `Proxy answered CONNECT to ${what} with ${status || 'an invalid response'}.`,
    { details },
  )
}
