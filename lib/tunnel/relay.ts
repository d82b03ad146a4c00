/**
 * Joins two tunnel streams on the tunnel server (a client's stream and the agent stream serving
 * it) without the Node stream machinery in between: each DATA payload received on one is queued
 * on the other and, when it arrives as a whole frame, sent from the very buffer it came in with
 * only the stream id rewritten. Credit goes back to the sending peer once the bytes have been
 * handed to the other socket, so a stream never holds more than its receive window here.
 */
import { joinLifecycle } from './splice'
import type { TunnelStream } from './stream'

/** One direction: what `from`'s peer sends leaves through `to`. */
function link(from: TunnelStream, to: TunnelStream): void {
  const sent = (bytes: number): void => from.relayConsumed(bytes)
  // Bytes that arrived before the join (e.g. a server greeting right behind OPEN_OK) go first.
  for (let chunk = from.read() as Buffer | null; chunk !== null; chunk = from.read() as Buffer | null) {
    to.relayIn(chunk, false, null)
  }
  from.relayTo((data, whole) => to.relayIn(data, whole, sent))
  from.once('end', () => {
    if (!to.destroyed && !to.writableEnded) to.end()
  })
  // Nothing is pushed any more; flowing mode lets 'end' fire as soon as the peer's FIN arrives.
  from.resume()
}

/** Relays `a` ⇄ `b` with half-close and resets passed through; `onDone` once both are closed. */
export function relayStreams(a: TunnelStream, b: TunnelStream, onDone?: (err?: Error) => void): void {
  if (!joinLifecycle(a, b, onDone)) return
  link(a, b)
  link(b, a)
}
