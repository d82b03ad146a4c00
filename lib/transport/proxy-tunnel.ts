/**
 * What every proxy connector (HTTP CONNECT, SOCKS5) does around its own handshake: validate the
 * proxy address, open the socket under one deadline, abort the handshake on timeout or signal,
 * map that to a coded error, then optionally start TLS end to end to the target.
 */
import { connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TransportError } from '../errors'
import type { ConnectContext, ConnectTarget } from './connector'
import { awaitReady, describeTarget, startTls } from './socket-util'
import type { DestinationTlsOptions } from './tls-options'

/** Address and common settings of a proxy connector. */
export interface ProxyConnectorOptions {
  readonly host: string
  readonly port: number
  /** Wrap the tunnelled connection in TLS with these settings (e.g. HTTPS to a virtual host). */
  readonly tls?: DestinationTlsOptions & { servername?: string }
  /** Default deadline in ms for connect + handshake when the context has none (default 10 000). */
  readonly connectTimeoutMs?: number
}

/**
 * Checks the proxy address given to a connector's constructor.
 * @throws TypeError for a missing host, RangeError for a port outside 1-65535 (naming the connector).
 */
export function checkProxyAddress(connector: string, options: { host?: unknown; port?: unknown }): void {
  if (typeof options?.host !== 'string' || options.host === '')
    throw new TypeError(`${connector}: host must be a non-empty string`)
  const port = options.port
  if (!Number.isInteger(port) || (port as number) <= 0 || (port as number) > 65535) {
    throw new RangeError(`${connector}: port must be an integer between 1 and 65535`)
  }
}

/**
 * Waits until the proxy sent more handshake bytes. A proxy that closed the connection instead fails
 * the handshake with PROXY_FAILED and `closedMessage` (nothing reached the target).
 */
export async function awaitHandshakeBytes(socket: Socket, closedMessage: string): Promise<void> {
  if (socket.destroyed || socket.readableEnded) {
    throw new TransportError('PROXY_FAILED', closedMessage, { details: { requestSent: false } })
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('readable', done)
      socket.off('close', done)
      socket.off('end', done)
      resolve()
    }
    socket.on('readable', done)
    socket.on('close', done)
    socket.on('end', done)
  })
}

/** One proxy tunnel to open: where the proxy is, how it is named in messages, and its handshake. */
export interface ProxyTunnelPlan {
  readonly options: ProxyConnectorOptions
  readonly target: ConnectTarget
  readonly ctx: ConnectContext
  /** Names the proxy kind in messages, e.g. `proxy` or `SOCKS5 proxy`. */
  readonly kind: string
  /** Speaks the proxy protocol on the connected socket; throws a coded error on refusal. */
  readonly handshake: (socket: Socket, proxy: string, what: string) => Promise<void>
}

/**
 * Connects to the proxy, runs the handshake within the deadline (`ctx.timeoutMs`, else the
 * connector's `connectTimeoutMs`, else 10 s) and wraps the tunnel in TLS when configured.
 * @throws CONNECT_FAILED, CONNECT_TIMEOUT, REQUEST_ABORTED and whatever the handshake throws — all
 *   with `details.requestSent: false`
 */
export async function openProxyTunnel(plan: ProxyTunnelPlan): Promise<Duplex> {
  const { options, target, ctx } = plan
  const proxy = describeTarget(options.host, options.port)
  const what = `${describeTarget(target.host, target.port, ctx.destinationName)} via ${plan.kind} ${proxy}`
  const timeoutMs = ctx.timeoutMs ?? options.connectTimeoutMs ?? 10_000
  const deadline = AbortSignal.timeout(timeoutMs)
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline
  const raw = netConnect({ host: options.host, port: options.port, noDelay: true })
  const socket = (await awaitReady(
    { stream: raw, readyEvent: 'connect' },
    { what: `${plan.kind} ${proxy}`, timeoutMs, signal },
  )) as Socket
  // The handshake waits on socket reads; destroying the socket is what ends those waits.
  const onAbort = (): void => {
    socket.destroy()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await plan.handshake(socket, proxy, what)
  } catch (err) {
    socket.destroy()
    if (signal.aborted) throw abortError(ctx.signal, timeoutMs, what, err)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (!options.tls) return socket
  return startTls(
    { servername: target.host, ...options.tls },
    { what: `TLS to ${what}`, timeoutMs, signal, socket },
  )
}

function abortError(
  userSignal: AbortSignal | undefined,
  timeoutMs: number,
  what: string,
  cause: unknown,
): TransportError {
  if (userSignal?.aborted) {
    return new TransportError('REQUEST_ABORTED', `Connecting to ${what} was aborted.`, {
      cause: userSignal.reason,
      details: { requestSent: false },
    })
  }
  return new TransportError('CONNECT_TIMEOUT', `Connecting to ${what} took longer than ${timeoutMs} ms.`, {
    cause,
    details: { requestSent: false, timeoutMs },
  })
}
