/**
 * Opening a socket with a real deadline and AbortSignal support, and the error mapping every
 * connector shares: nothing was sent when a connect fails (`details.requestSent: false`).
 */
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'
import { TransportError } from '../errors'

export interface Pending {
  /** The socket (or stream) being opened; destroyed on timeout/abort. */
  readonly stream: Duplex
  /** Event that marks the stream as ready (`connect`, `secureConnect`). */
  readonly readyEvent: string
}

/** Describes the peer in messages: `host:port` plus the destination name when known. */
export function describeTarget(host: string, port: number, destinationName?: string): string {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return destinationName ? `${where} (destination "${destinationName}")` : where
}

/** A CONNECT_TIMEOUT / CONNECT_FAILED / REQUEST_ABORTED error for a connection that never carried a request. */
export function connectError(
  code: 'CONNECT_FAILED' | 'CONNECT_TIMEOUT' | 'REQUEST_ABORTED',
  message: string,
  cause: unknown,
  details: Record<string, string | number | boolean | undefined> = {},
): TransportError {
  return new TransportError(code, message, { cause, details: { ...details, requestSent: false } })
}

/**
 * Waits until `pending.stream` emits its ready event, failing with a coded error on `error`,
 * `close`, the connect timeout or an abort. The stream is destroyed on every failure.
 */
export function awaitReady(
  pending: Pending,
  opts: { what: string; timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
): Promise<Duplex> {
  const { stream, readyEvent } = pending
  return new Promise<Duplex>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const cleanup = (): void => {
      if (timer) clearTimeout(timer)
      stream.off(readyEvent, onReady)
      stream.off('error', onError)
      stream.off('close', onClose)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    const fail = (err: TransportError): void => {
      cleanup()
      stream.destroy()
      reject(err)
    }
    const onReady = (): void => {
      cleanup()
      resolve(stream)
    }
    const onError = (cause: unknown): void => {
      const reason = (cause as { code?: string })?.code ?? (cause as Error)?.message ?? 'error'
      fail(
        connectError(
          'CONNECT_FAILED',
          `Could not connect to ${opts.what}: ${reason}. Check host, port and that the server is up.`,
          cause,
        ),
      )
    }
    const onClose = (): void => {
      fail(
        connectError(
          'CONNECT_FAILED',
          `Connection to ${opts.what} closed before it was established.`,
          undefined,
        ),
      )
    }
    const onAbort = (): void => {
      fail(connectError('REQUEST_ABORTED', `Connecting to ${opts.what} was aborted.`, opts.signal?.reason))
    }
    if (opts.signal?.aborted) {
      onAbort()
      return
    }
    stream.once(readyEvent, onReady)
    stream.once('error', onError)
    stream.once('close', onClose)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      timer = setTimeout(() => {
        fail(
          connectError(
            'CONNECT_TIMEOUT',
            `Connecting to ${opts.what} took longer than ${opts.timeoutMs} ms; check the network path or raise the timeout.`,
            undefined,
            { timeoutMs: opts.timeoutMs },
          ),
        )
      }, opts.timeoutMs)
    }
  })
}

/**
 * Starts a TLS client session (over `socket` when given) and waits for the handshake. Unusable TLS
 * settings (e.g. a wrong PKCS#12 password) become CONNECT_FAILED instead of a synchronous throw.
 */
export function startTls(
  options: ConnectionOptions & { servername?: string | undefined },
  opts: { what: string; timeoutMs?: number | undefined; signal?: AbortSignal | undefined; socket?: Duplex },
): Promise<Duplex> {
  const { servername, ...rest } = options
  const name = servername ?? options.host
  let secure: Duplex
  try {
    secure = tlsConnect({
      ...rest,
      ...(opts.socket ? { socket: opts.socket } : {}),
      // SNI must not be an IP address (RFC 6066).
      ...(name && isIP(name) === 0 ? { servername: name } : {}),
    })
  } catch (cause) {
    opts.socket?.destroy()
    const reason = (cause as Error)?.message ?? 'invalid settings'
    return Promise.reject(
      connectError(
        'CONNECT_FAILED',
        `TLS settings for ${opts.what} are not usable (${reason}); check KeyStoreLocation, KeyStorePassword and TrustStoreLocation.`,
        cause,
      ),
    )
  }
  return awaitReady({ stream: secure, readyEvent: 'secureConnect' }, opts)
}
