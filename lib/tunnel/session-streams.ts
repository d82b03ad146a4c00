/**
 * The stream table of a session: live streams, streams being opened (waiting for OPEN_OK) and
 * streams the peer opened that are not yet accepted, plus the id rules (parity, only growing).
 */
import { PendingOpens } from './session-opens'
import type { TunnelStream } from './stream'

export class StreamTable {
  readonly live = new Map<number, TunnelStream>()
  /** Our opens waiting for the peer's answer. */
  readonly opening = new PendingOpens()
  /** Peer opens not yet answered by our 'open' listener. */
  readonly pendingAccept = new Set<number>()
  #nextId: number
  #lastPeerId = 0

  constructor(initiator: boolean) {
    this.#nextId = initiator ? 1 : 2
  }

  /** Highest stream id the peer opened (for GOAWAY). */
  get lastPeerId(): number {
    return this.#lastPeerId
  }

  /** The id our next stream will get (odd on the initiator side, even on the acceptor side). */
  peekId(): number {
    return this.#nextId
  }

  /** Takes the id from {@link peekId} once the OPEN frame could be built. */
  takeId(): number {
    const id = this.#nextId
    this.#nextId += 2
    return id
  }

  /** Records a peer OPEN; false when its id has our parity or does not grow (protocol error). */
  acceptPeerId(id: number): boolean {
    const peerParity = this.#nextId & 1 ? 0 : 1
    if ((id & 1) !== peerParity || id <= this.#lastPeerId) return false
    this.#lastPeerId = id
    return true
  }

  /** True for an id that was valid once (stream since closed): late frames for it are ignored. */
  wasKnown(id: number): boolean {
    const mine = (id & 1) === (this.#nextId & 1)
    return mine ? id < this.#nextId : id <= this.#lastPeerId
  }

  /** True while either side still waits for OPEN_OK: DATA and FIN are not allowed yet. */
  notYetOpen(id: number): boolean {
    return this.opening.has(id) || this.pendingAccept.has(id)
  }
}
