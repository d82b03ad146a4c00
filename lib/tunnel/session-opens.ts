/**
 * Streams this side is opening: each waits for OPEN_OK / OPEN_FAIL / RST from the peer, a timeout
 * or an abort signal. The session owns the stream table; this table only tracks the promises.
 */
import { TunnelError } from '../errors'
import { coarseTimeout } from './coarse-timer'
import { encodeOpen } from './frames'
import type { OpenStreamOptions } from './session-types'
import type { TunnelStream, TunnelStreamInfo } from './stream'

export interface Opening {
  readonly stream: TunnelStream
  resolve(stream: TunnelStream): void
  reject(err: Error): void
}

interface Entry extends Opening {
  cleanup(): void
}

/** A TunnelError for an open that never reached the target (`requestSent: false`). */
export function openError(
  code: 'TUNNEL_CLOSED' | 'REQUEST_ABORTED' | 'REQUEST_INVALID' | 'CONNECT_TIMEOUT',
  message: string,
  target?: string,
  cause?: unknown,
): TunnelError {
  return new TunnelError(code, message, {
    ...(cause === undefined ? {} : { cause }),
    details: { ...(target === undefined ? {} : { target }), requestSent: false },
  })
}

/**
 * The OPEN frame for a new stream with id `id`, or the error the caller gets instead.
 * @throws TunnelError TUNNEL_CLOSED (session draining) | REQUEST_ABORTED | REQUEST_INVALID (a target
 * the peer would reject as malformed must not reach the wire: it would end the session)
 */
export function buildOpen(
  opts: OpenStreamOptions,
  id: number,
  window: number,
  draining: boolean,
): { id: number; info: TunnelStreamInfo; frame: Buffer; target: string } {
  const target = `${opts.host}:${opts.port}`
  if (draining) {
    throw openError('TUNNEL_CLOSED', `Tunnel session is closing; cannot open a stream to ${target}.`, target)
  }
  if (opts.signal?.aborted) {
    throw openError('REQUEST_ABORTED', `Opening a tunnel stream to ${target} was aborted.`, target)
  }
  const info = {
    id,
    kind: opts.kind ?? 'tcp',
    host: opts.host,
    port: opts.port,
    locationId: opts.locationId ?? '',
  }
  try {
    return {
      id,
      info,
      target,
      frame: encodeOpen({ ...info, streamId: id, window, metadata: opts.metadata ?? {} }),
    }
  } catch (err) {
    const msg = `Cannot open a tunnel stream to ${target}: ${(err as Error).message}.`
    throw openError('REQUEST_INVALID', msg, target, err)
  }
}

export class PendingOpens {
  #entries = new Map<number, Entry>()

  get size(): number {
    return this.#entries.size
  }

  has(id: number): boolean {
    return this.#entries.has(id)
  }

  /**
   * Tracks `stream` until the peer answers. A timeout or abort destroys the stream (which sends
   * RST CANCEL, so the peer drops its half-open target connection) and rejects.
   */
  track(
    stream: TunnelStream,
    target: string,
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  ): Promise<TunnelStream> {
    const id = stream.id
    return new Promise<TunnelStream>((resolve, reject) => {
      let cancelTimeout: (() => void) | undefined
      const fail = (err: TunnelError): void => {
        const entry = this.settle(id)
        if (!entry) return
        stream.destroy()
        reject(err)
      }
      const onAbort = (): void =>
        fail(openError('REQUEST_ABORTED', `Opening a tunnel stream to ${target} was aborted.`, target))
      this.#entries.set(id, {
        stream,
        resolve,
        reject,
        cleanup: () => {
          cancelTimeout?.()
          opts.signal?.removeEventListener('abort', onAbort)
        },
      })
      if (opts.timeoutMs) {
        const ms = opts.timeoutMs
        cancelTimeout = coarseTimeout(ms, () =>
          fail(
            openError(
              'CONNECT_TIMEOUT',
              `Tunnel stream to ${target} was not opened within ${ms} ms.`,
              target,
            ),
          ),
        )
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Stops tracking `id` (timers, listeners) and hands the entry to the caller to resolve or reject. */
  settle(id: number): Opening | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    this.#entries.delete(id)
    entry.cleanup()
    return entry
  }

  /** Settles every open (the session is gone). */
  settleAll(): Opening[] {
    return [...this.#entries.keys()].map((id) => this.settle(id) as Opening)
  }
}
