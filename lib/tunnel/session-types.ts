/** Options, events and handles of a tunnel session (shared by the session and its helpers). */
import type { TunnelError } from '../errors'
import { LIMITS, type OpenMetadata, type StreamKind } from './frames'
import type { TunnelStream } from './stream'

/** Session window both sides start with (protocol constant); each side may grant more at once. */
export const INITIAL_SESSION_WINDOW = 1024 * 1024

export interface SessionOptions {
  /** true on the WebSocket client side (agent, forward client): it opens odd stream ids. */
  readonly initiator: boolean
  /** Receive window per stream in bytes (default 512 KiB): caps one stream at window ÷ round-trip time. */
  readonly streamWindow?: number
  /** Receive window of the whole session: the cap on bytes buffered for all streams (default 16 MiB). */
  readonly sessionWindow?: number
  /** Largest DATA payload we send (default 32 KiB): smaller frames interleave more fairly, larger ones cost less CPU. */
  readonly maxFrameData?: number
  /** Largest DATA payload while only one stream has data to send (default 256 KiB, at least maxFrameData). */
  readonly soloFrameData?: number
  /** Concurrent streams accepted from the peer (default 20 000). */
  readonly maxStreams?: number
  readonly pingIntervalMs?: number
  readonly pingTimeoutMs?: number
  /** Bytes queued in the WebSocket before the send ring pauses (default 256 KiB). */
  readonly sendHighWater?: number
  /**
   * WebSocket client side only: mask frames with an all-zero key (default false). Masking protects
   * plain-text intermediaries; inside TLS it only costs CPU (see docs/tunnel-protocol.md).
   */
  readonly zeroMask?: boolean
  /** Short label for debug logs (never a secret). */
  readonly label?: string
}

export interface OpenStreamOptions {
  readonly host: string
  readonly port: number
  readonly kind?: StreamKind
  readonly locationId?: string
  readonly metadata?: OpenMetadata
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/** A stream the peer wants to open; the listener must call exactly one of accept / reject. */
export interface IncomingOpen {
  readonly streamId: number
  readonly kind: StreamKind
  readonly host: string
  readonly port: number
  readonly locationId: string
  /** Never log: may hold the user's JWT (`principal`). */
  readonly metadata: OpenMetadata
  accept(): TunnelStream
  reject(reason: number, message?: string): void
}

export interface SessionCloseInfo {
  readonly code: number
  readonly reason: string
  readonly error?: TunnelError
}

/** Session options with defaults applied. @throws RangeError for a window or frame size out of range. */
export function resolveSessionOptions(o: SessionOptions) {
  const resolved = {
    streamWindow: o.streamWindow ?? 512 * 1024,
    sessionWindow: Math.max(o.sessionWindow ?? 16 * 1024 * 1024, INITIAL_SESSION_WINDOW),
    maxFrameData: Math.min(o.maxFrameData ?? 32 * 1024, LIMITS.maxData),
    soloFrameData: Math.min(o.soloFrameData ?? 256 * 1024, LIMITS.maxData),
    maxStreams: o.maxStreams ?? 20_000,
    label: o.label ?? (o.initiator ? 'initiator' : 'acceptor'),
    sendHighWater: o.sendHighWater ?? 256 * 1024,
    pingIntervalMs: o.pingIntervalMs ?? 20_000,
    pingTimeoutMs: o.pingTimeoutMs ?? 10_000,
  }
  for (const name of ['streamWindow', 'maxFrameData'] as const) {
    const v = resolved[name]
    if (!Number.isInteger(v) || v < 1024 || v > LIMITS.maxWindow) throw new RangeError(`${name} out of range`)
  }
  return resolved
}
