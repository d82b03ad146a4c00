/**
 * Liveness of a session: a PING every interval, and a timeout when nothing at all arrived within
 * the ping timeout after a PING (any frame counts, so a busy session is never killed for a PONG
 * queued behind data).
 */
export interface LivenessHooks {
  ping(payload: Buffer): void
  timeout(elapsedMs: number): void
}

export class Liveness {
  readonly #intervalMs: number
  readonly #timeoutMs: number
  readonly #hooks: LivenessHooks
  #timer: NodeJS.Timeout | undefined
  #sentAt = 0
  #payload: Buffer | undefined
  #lastRecv = Date.now()

  constructor(intervalMs: number, timeoutMs: number, hooks: LivenessHooks) {
    this.#intervalMs = intervalMs
    this.#timeoutMs = timeoutMs
    this.#hooks = hooks
    const tick = Math.max(50, Math.min(intervalMs, timeoutMs) / 2)
    this.#timer = setInterval(() => this.#check(), tick)
    this.#timer.unref()
  }

  get timeoutMs(): number {
    return this.#timeoutMs
  }

  /** Something arrived from the peer. */
  touch(): void {
    this.#lastRecv = Date.now()
  }

  /** A PONG arrived: it settles the outstanding PING only if it echoes its payload. */
  pong(payload: Buffer): void {
    if (this.#payload?.equals(payload)) this.#payload = undefined
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #check(): void {
    const now = Date.now()
    if (this.#payload && now - this.#sentAt > this.#timeoutMs && this.#lastRecv < this.#sentAt) {
      this.stop()
      this.#hooks.timeout(now - this.#sentAt)
      return
    }
    if (!this.#payload && now - this.#sentAt >= this.#intervalMs) {
      this.#sentAt = now
      this.#payload = Buffer.allocUnsafe(8)
      this.#payload.writeDoubleBE(now)
      this.#hooks.ping(this.#payload)
    }
  }
}
