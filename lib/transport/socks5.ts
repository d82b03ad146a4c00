/**
 * Socks5Connector: SOCKS5 to SAP's connectivity proxy with the custom authentication method 0x80
 * (JWT + base64 location id), then CONNECT to the Cloud Connector's virtual host:port. HTTPS runs
 * end to end inside the tunnel when `tls` is set.
 */
import { isIP, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { DestinationError, TransportError } from '../errors'
import type { ConnectContext, Connector, ConnectTarget } from './connector'
import {
  awaitHandshakeBytes,
  checkProxyAddress,
  openProxyTunnel,
  type ProxyConnectorOptions,
} from './proxy-tunnel'

const debug = debuglog('cap-connectivity:socks5')

/** Supplies the JWT sent in the 0x80 sub-negotiation (connectivity token in the caller's tenant); `''` in trusted mode. */
export type Socks5TokenProvider = (ctx: ConnectContext) => string | Promise<string>

export interface Socks5ConnectorOptions extends ProxyConnectorOptions {
  /** Proxy host, e.g. the binding's `onpremise_proxy_host`. */
  readonly host: string
  /** Proxy port, e.g. `onpremise_socks5_proxy_port` (20004). */
  readonly port: number
  /** JWT for the 0x80 authentication; omit (or return `''`) when the proxy runs in trusted mode. */
  readonly token?: string | Socks5TokenProvider
}

type ReplyCode = 'CONNECT_FAILED' | 'ACCESS_DENIED' | 'NO_AGENT' | 'PROXY_AUTH_FAILED' | 'PROXY_FAILED'

/** REP byte → our code and SAP's documented meaning (connectivity docs, "Troubleshooting"). */
const REPLIES: Readonly<Record<number, readonly [ReplyCode, string]>> = {
  1: ['CONNECT_FAILED', 'general failure, or the backend closed the connection'],
  2: ['ACCESS_DENIED', 'no matching host mapping in the Cloud Connector access control'],
  3: ['NO_AGENT', 'no Cloud Connector connected for this subaccount and location id'],
  4: ['CONNECT_FAILED', 'the backend is unreachable from the Cloud Connector'],
  5: ['PROXY_AUTH_FAILED', 'authentication failure (check the connectivity token and its tenant)'],
  6: ['PROXY_FAILED', 'TTL expired'],
  7: ['PROXY_FAILED', 'command not supported (only CONNECT is)'],
  8: ['PROXY_FAILED', 'address type not supported (only domain names and IPv4)'],
}

/** Builds the 0x80 authentication request: `01 | u32 BE len | JWT | u8 len | base64(location id)`. */
export function socks5AuthRequest(jwt: string, locationId: string | undefined): Buffer {
  const token = Buffer.from(jwt, 'ascii')
  const loc = locationId
    ? Buffer.from(Buffer.from(locationId, 'utf8').toString('base64'), 'ascii')
    : Buffer.alloc(0)
  if (loc.length > 255) {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Location id is too long for SOCKS5 (base64 form is ${loc.length} bytes, at most 255); use a shorter CloudConnectorLocationId.`,
    )
  }
  const out = Buffer.alloc(1 + 4 + token.length + 1 + loc.length)
  out[0] = 0x01
  out.writeUInt32BE(token.length, 1)
  token.copy(out, 5)
  out[5 + token.length] = loc.length
  loc.copy(out, 6 + token.length)
  return out
}

/** Builds `05 01 00 ATYP addr port` for a domain name or an IPv4 address. */
export function socks5ConnectRequest(host: string, port: number): Buffer {
  if (isIP(host) === 6) {
    throw new TransportError(
      'REQUEST_INVALID',
      `SOCKS5 target ${host} is an IPv6 address; the connectivity proxy accepts only domain names and IPv4.`,
      { details: { requestSent: false } },
    )
  }
  let addr: Buffer
  if (isIP(host) === 4) {
    addr = Buffer.from([0x01, ...host.split('.').map(Number)])
  } else {
    const name = Buffer.from(host, 'ascii')
    if (name.length === 0 || name.length > 255) {
      throw new TransportError(
        'REQUEST_INVALID',
        `SOCKS5 target host name "${host}" must be 1-255 bytes long.`,
        {
          details: { requestSent: false },
        },
      )
    }
    addr = Buffer.concat([Buffer.from([0x03, name.length]), name])
  }
  const portBuf = Buffer.alloc(2)
  portBuf.writeUInt16BE(port)
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), addr, portBuf])
}

/** Reads exactly `n` bytes; later bytes stay buffered in the socket for whoever reads next. */
async function readExact(socket: Socket, n: number, what: string): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(n) as Buffer | null
    if (chunk !== null) return chunk
    await awaitHandshakeBytes(socket, `The SOCKS5 proxy ${what} closed the connection during the handshake.`)
  }
}

/**
 * Opens connections through a SOCKS5 proxy speaking SAP's method 0x80.
 * @example
 * const c = new Socks5Connector({ host: binding.host, port: binding.socksPort, token: () => tokenFor(tenant) })
 * const socket = await c.connect({ host: 'virtual-db', port: 5432 }, { locationId: 'LOC1' })
 * @throws CONNECT_FAILED, CONNECT_TIMEOUT, PROXY_AUTH_FAILED, ACCESS_DENIED, NO_AGENT, PROXY_FAILED, REQUEST_ABORTED
 *   (always `details.requestSent: false`)
 */
export class Socks5Connector implements Connector {
  readonly route = 'socks5'
  readonly #opts: Socks5ConnectorOptions

  constructor(options: Socks5ConnectorOptions) {
    checkProxyAddress('Socks5Connector', options)
    this.#opts = options
  }

  async connect(target: ConnectTarget, ctx: ConnectContext = {}): Promise<Duplex> {
    // Validate what we will send before opening a socket.
    const connectReq = socks5ConnectRequest(target.host, target.port)
    const token =
      typeof this.#opts.token === 'function' ? await this.#opts.token(ctx) : (this.#opts.token ?? '')
    const authReq = socks5AuthRequest(token, ctx.locationId)
    return openProxyTunnel({
      options: this.#opts,
      target,
      ctx,
      kind: 'SOCKS5 proxy',
      handshake: async (socket, proxy, what) => {
        await this.#handshake(socket, authReq, connectReq, proxy, what)
        debug('tunnel open to %s:%d through %s', target.host, target.port, proxy)
      },
    })
  }

  async #handshake(
    socket: Socket,
    authReq: Buffer,
    connectReq: Buffer,
    proxy: string,
    what: string,
  ): Promise<void> {
    socket.write(Buffer.from([0x05, 0x01, 0x80]))
    const method = await readExact(socket, 2, proxy)
    if (method[0] !== 0x05) {
      throw new TransportError(
        'PROXY_FAILED',
        `${proxy} is not a SOCKS5 proxy (version byte ${method[0]}).`,
        {
          details: { requestSent: false },
        },
      )
    }
    if (method[1] !== 0x80) {
      throw new TransportError(
        'PROXY_AUTH_FAILED',
        `SOCKS5 proxy ${proxy} refused authentication method 0x80; is it SAP's connectivity proxy?`,
        {
          details: { requestSent: false, method: method[1] },
        },
      )
    }
    socket.write(authReq)
    const auth = await readExact(socket, 2, proxy)
    if (auth[0] !== 0x01 || auth[1] !== 0x00) {
      throw new TransportError(
        'PROXY_AUTH_FAILED',
        `SOCKS5 proxy ${proxy} rejected the connectivity token (status ${auth[1]}); check the connectivity binding and the tenant.`,
        { details: { requestSent: false, status: auth[1] } },
      )
    }
    socket.write(connectReq)
    const head = await readExact(socket, 4, proxy)
    const rep = head[1] ?? 1
    if (rep !== 0x00) {
      const [code, meaning] = REPLIES[rep] ?? (['PROXY_FAILED', 'unknown reply code'] as const)
      throw new TransportError(code, `SOCKS5 CONNECT to ${what} failed: ${meaning} (reply ${rep}).`, {
        details: { requestSent: false, socksReply: rep },
      })
    }
    // Skip BND.ADDR + BND.PORT; their length depends on the address type.
    const atyp = head[3]
    if (atyp === 0x01) await readExact(socket, 6, proxy)
    else if (atyp === 0x04) await readExact(socket, 18, proxy)
    else if (atyp === 0x03) {
      const len = await readExact(socket, 1, proxy)
      await readExact(socket, (len[0] ?? 0) + 2, proxy)
    } else {
      throw new TransportError(
        'PROXY_FAILED',
        `SOCKS5 proxy ${proxy} sent an invalid reply address type ${atyp}.`,
        {
          details: { requestSent: false },
        },
      )
    }
  }
}
