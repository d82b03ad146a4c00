/** Exponential backoff with full jitter in [delay/2, delay], so many agents do not reconnect in lockstep. */
export interface BackoffOptions {
  readonly minMs?: number
  readonly maxMs?: number
}

export class Backoff {
  #attempt = 0
  readonly #min: number
  readonly #max: number

  constructor(opts: BackoffOptions = {}) {
    this.#min = opts.minMs ?? 200
    this.#max = opts.maxMs ?? 30_000
    if (this.#min <= 0 || this.#max < this.#min) throw new RangeError('backoff needs 0 < minMs <= maxMs')
  }

  /** The next delay in ms (grows until maxMs). */
  next(): number {
    const base = Math.min(this.#max, this.#min * 2 ** Math.min(this.#attempt, 30))
    this.#attempt++
    return Math.round(base / 2 + (Math.random() * base) / 2)
  }

  reset(): void {
    this.#attempt = 0
  }

  get attempt(): number {
    return this.#attempt
  }
}
