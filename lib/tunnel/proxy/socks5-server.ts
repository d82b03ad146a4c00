/**
 * The local connectivity proxy's SOCKS5 front-end with SAP's authentication method 0x80:
 * greeting `05 01 80` or `05 02 00 80` → `05 80`; auth `01 | u32 BE JWT length | JWT | u8 length |
 * base64(location id)` → `01 00` (or `01 01` for a bad/expired token); CONNECT by IPv4 or domain.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { listenOn } from './listen'
import { classifyFailure, SocksReply, socksReplyFor } from './status'
import type { ProxyAuthenticator, ProxyCaller, ProxyStreamOpener } from './types'

const debug = debuglog('cap-connectivity:proxy')

const METHOD_NO_AUTH = 0x00
const METHOD_SAP = 0x80
const MAX_JWT = 16 * 1024

export interface Socks5ConnectivityProxyOptions {
  readonly openStream: ProxyStreamOpener
  readonly authenticate: ProxyAuthenticator
  /** Bind address; default 127.0.0.1. */
  readonly host?: string
  /** Port; default 20004 as on BTP; 0 picks a free one. */
  readonly port?: number
  /** Also accept method 00 (no auth, default location) — only sensible with a trusted authenticator. */
  readonly allowNoAuth?: boolean
  /** Handshake deadline in ms; default 10 000. */
  readonly handshakeTimeoutMs?: number
}

/** Thrown inside the handshake to end the connection (after an optional reply). */
class HandshakeEnd extends Error {}

/** Pulls exact byte counts from a socket during the handshake, with a bounded buffer. */
class Reader {
  #buf: Buffer = Buffer.alloc(0)
  #want = 0
  #wake: (() => void) | undefined
  #failed: Error | undefined
  readonly #socket: Socket
  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    if (this.#buf.length > MAX_JWT + 1024) this.#fail(new HandshakeEnd('handshake too large'))
    if (this.#buf.length >= this.#want) this.#wake?.()
  }
  readonly #onEnd = (): void => this.#fail(new HandshakeEnd('client closed during handshake'))

  constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('close', this.#onEnd)
  }

  #fail(err: Error): void {
    this.#failed ??= err
    this.#wake?.()
  }

  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n) {
      if (this.#failed !== undefined) throw this.#failed
      this.#want = n
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = undefined
    }
    const out = this.#buf.subarray(0, n)
    this.#buf = this.#buf.subarray(n)
    return out
  }

  /** Stops reading; returns bytes the client already sent past the handshake. */
  detach(): Buffer {
    this.#socket.pause()
    this.#socket.off('data', this.#onData)
    this.#socket.off('end', this.#onEnd)
    this.#socket.off('close', this.#onEnd)
    return this.#buf
  }
}

/**
 * SOCKS5 server speaking SAP's method 0x80. REP codes: 02 not allowed, 03 no agent (or unknown
 * location), 04 backend unreachable, 07 command not supported, 08 address type not supported.
 * @example const socks = new Socks5ConnectivityProxy({ openStream, authenticate, port: 0 }); await socks.listen()
 */
export class Socks5ConnectivityProxy {
  readonly #opts: Socks5ConnectivityProxyOptions
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  /** Client connections accepted, CONNECTs that reached a backend, and connections refused or failed. */
  readonly stats = { connections: 0, connected: 0, failed: 0 }

  constructor(options: Socks5ConnectivityProxyOptions) {
    if (typeof options.openStream !== 'function') throw new TypeError('openStream must be a function')
    if (typeof options.authenticate !== 'function') throw new TypeError('authenticate must be a function')
    this.#opts = options
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.stats.connections++
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      socket.on('error', (err) => debug('socks client socket error: %s', err.message))
      this.#serve(socket).then(
        (connected) => {
          if (connected) this.stats.connected++
          else this.stats.failed++
        },
        (err: unknown) => {
          this.stats.failed++
          debug('socks connection ended: %s', (err as Error).message)
          socket.destroy()
        },
      )
    })
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return listenOn(this.#server, this.#opts.port ?? 20004, this.#opts.host ?? '127.0.0.1')
  }

  /** Stops accepting and destroys open connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      for (const s of this.#sockets) s.destroy()
    })
  }

  /** Serves one client; true once its CONNECT reached a backend. */
  async #serve(socket: Socket): Promise<boolean> {
    const reader = new Reader(socket)
    const deadline = setTimeout(() => socket.destroy(), this.#opts.handshakeTimeoutMs ?? 10_000)
    try {
      const [ver, nMethods] = await reader.read(2)
      if (ver !== 0x05) throw new HandshakeEnd('not SOCKS5')
      const methods = await reader.read(nMethods ?? 0)
      let caller: ProxyCaller
      let locationId = ''
      if (methods.includes(METHOD_SAP)) {
        socket.write(Buffer.from([0x05, METHOD_SAP]))
        const auth = await this.#authenticate(reader, socket)
        caller = auth.caller
        locationId = auth.locationId
      } else if (this.#opts.allowNoAuth === true && methods.includes(METHOD_NO_AUTH)) {
        socket.write(Buffer.from([0x05, METHOD_NO_AUTH]))
        caller = await this.#opts.authenticate(undefined)
      } else {
        socket.end(Buffer.from([0x05, 0xff]))
        throw new HandshakeEnd('no acceptable method')
      }
      const [v, cmd, , atyp] = await reader.read(4)
      if (v !== 0x05) throw new HandshakeEnd('bad request version')
      let host: string
      if (atyp === 0x01) host = [...(await reader.read(4))].join('.')
      else if (atyp === 0x03) {
        const [len] = await reader.read(1)
        host = (await reader.read(len ?? 0)).toString('latin1')
      } else {
        // IPv6 (04) and unknown types: SAP's proxy supports DOMAIN and IPv4 only.
        reply(socket, SocksReply.ADDRESS_TYPE_NOT_SUPPORTED)
        return false
      }
      const port = (await reader.read(2)).readUInt16BE(0)
      if (cmd !== 0x01) {
        reply(socket, SocksReply.COMMAND_NOT_SUPPORTED)
        return false
      }
      if (host === '' || port === 0) {
        reply(socket, SocksReply.ADDRESS_TYPE_NOT_SUPPORTED)
        return false
      }
      let stream: Duplex
      const ac = new AbortController()
      const onClose = (): void => ac.abort()
      socket.once('close', onClose)
      try {
        stream = await this.#opts.openStream({
          account: caller.account,
          locationId,
          target: { host, port },
          kind: 'tcp',
          signal: ac.signal,
        })
      } catch (err) {
        const rep = socksReplyFor(classifyFailure(err))
        debug('socks CONNECT %s:%d failed (REP %d): %s', host, port, rep, (err as Error).message)
        reply(socket, rep)
        return false
      } finally {
        socket.off('close', onClose)
      }
      clearTimeout(deadline)
      if (socket.destroyed) {
        stream.destroy()
        return false
      }
      socket.write(Buffer.from([0x05, SocksReply.SUCCESS, 0x00, 0x01, 0, 0, 0, 0, 0, 0]))
      splice(socket, stream, reader.detach())
      return true
    } catch (err) {
      if (!(err instanceof HandshakeEnd)) throw err
      debug('socks handshake ended: %s', err.message)
      socket.destroy()
      return false
    } finally {
      clearTimeout(deadline)
    }
  }

  async #authenticate(reader: Reader, socket: Socket): Promise<{ caller: ProxyCaller; locationId: string }> {
    const [authVer] = await reader.read(1)
    if (authVer !== 0x01) throw new HandshakeEnd('bad auth version')
    const jwtLen = (await reader.read(4)).readUInt32BE(0)
    if (jwtLen > MAX_JWT) {
      socket.end(Buffer.from([0x01, 0x01]))
      throw new HandshakeEnd('token too long')
    }
    const token = (await reader.read(jwtLen)).toString('latin1')
    const [locLen] = await reader.read(1)
    const locB64 = locLen === 0 ? '' : (await reader.read(locLen ?? 0)).toString('latin1')
    // The location id travels base64-encoded (SAP's layout); refuse anything that is not strict base64.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(locB64)) {
      socket.end(Buffer.from([0x01, 0x01]))
      throw new HandshakeEnd('location id is not base64')
    }
    const locationId = Buffer.from(locB64, 'base64').toString('utf8')
    let caller: ProxyCaller
    try {
      caller = await this.#opts.authenticate(token === '' ? undefined : token)
    } catch (err) {
      debug('socks auth refused: %s', (err as Error).message)
      socket.end(Buffer.from([0x01, 0x01]))
      throw new HandshakeEnd('authentication failed')
    }
    socket.write(Buffer.from([0x01, 0x00]))
    return { caller, locationId }
  }
}

function reply(socket: Socket, rep: number): void {
  socket.end(Buffer.from([0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0]))
}

/** Pipes both ways with half-close; an error on either side tears down both. */
function splice(socket: Socket, stream: Duplex, early: Buffer): void {
  if (early.length > 0) stream.write(early)
  const teardown = (): void => {
    socket.destroy()
    stream.destroy()
  }
  stream.on('error', (err) => {
    debug('socks stream error: %s', err.message)
    teardown()
  })
  socket.on('error', teardown)
  socket.pipe(stream)
  stream.pipe(socket)
  let ended = 0
  const onEnd = (): void => {
    if (++ended === 2) teardown()
  }
  // Once both directions finished, release both sides (half-close keeps one open until then).
  socket.on('end', onEnd)
  stream.on('end', onEnd)
  socket.on('close', () => stream.destroy())
  socket.resume()
}
