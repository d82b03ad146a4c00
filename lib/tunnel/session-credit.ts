/**
 * Receive-side session credit: counts DATA bytes against the session window and batches the
 * stream-0 WINDOW_UPDATEs that return consumed bytes, so a peer can never buffer more than the
 * window in this process no matter how many streams it opens.
 */
import { INITIAL_SESSION_WINDOW } from './session-types'

export class ReceiveCredit {
  readonly window: number
  #received = 0
  #granted = INITIAL_SESSION_WINDOW
  #owed = 0

  constructor(window: number) {
    this.window = window
  }

  /** Raises the grant from the protocol's initial window to ours; the increment to announce (0 = none). */
  initialGrant(): number {
    if (this.window <= INITIAL_SESSION_WINDOW) return 0
    this.#granted = this.window
    return this.window - INITIAL_SESSION_WINDOW
  }

  /** DATA of `bytes` arrived. False when the peer went beyond the granted window (flow-control error). */
  receive(bytes: number): boolean {
    this.#received += bytes
    return this.#received <= this.#granted
  }

  /** Bytes consumed or discarded; returns the increment to announce now (0 = keep batching). */
  consumed(bytes: number): number {
    this.#owed += bytes
    if (this.#owed < this.window >> 2) return 0
    const n = this.#owed
    this.#granted += n
    this.#owed = 0
    return n
  }
}
