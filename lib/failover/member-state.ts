/**
 * The health state machine of one group member, Traffic-Manager style:
 * - `toleratedFailures` consecutive failed probes mark it down;
 * - so do `toleratedFailures` consecutive failed real requests (passive health), before the next probe;
 * - a successful real request resets only the passive count, never the probe count, so a member
 *   whose probe keeps failing goes down even while some traffic still succeeds;
 * - `requiredSuccesses` consecutive successful probes bring a down member back;
 * - a drill outage holds it down regardless of probes until released.
 */
import type { HealthReason } from './events'

export interface ProbeRecord {
  readonly at: number
  readonly status?: number
  readonly error?: string
}

/** What a state change means for the group: `down`/`up` when health flipped, else `none`. */
export type Transition = 'down' | 'up' | 'none'

export class MemberState {
  readonly destination: string
  #healthy = true
  #probeFailures = 0
  #passiveFailures = 0
  #probeSuccesses = 0
  #drill = false
  #lastProbe: ProbeRecord | undefined
  #downReason: HealthReason | undefined

  constructor(destination: string) {
    this.destination = destination
  }

  /** Routable: healthy and not held down by a drill. */
  get up(): boolean {
    return this.#healthy && !this.#drill
  }
  get healthy(): boolean {
    return this.#healthy
  }
  get probeFailures(): number {
    return this.#probeFailures
  }
  get passiveFailures(): number {
    return this.#passiveFailures
  }
  get drillOutage(): boolean {
    return this.#drill
  }
  get lastProbe(): ProbeRecord | undefined {
    return this.#lastProbe
  }
  get downReason(): HealthReason | undefined {
    return this.#downReason
  }

  /** Records a probe result; `tolerated`/`required` come from the group's probe settings. */
  probed(ok: boolean, record: ProbeRecord, tolerated: number, required: number): Transition {
    this.#lastProbe = record
    if (!ok) {
      this.#probeSuccesses = 0
      this.#probeFailures++
      if (this.#healthy && this.#probeFailures >= tolerated) return this.#down('probe')
      return 'none'
    }
    this.#probeFailures = 0
    // During a drill outage the member stays down whatever the probes say; on release it needs
    // fresh successful probes, exactly as after a real outage.
    if (this.#healthy || this.#drill) return 'none'
    this.#probeSuccesses++
    if (this.#probeSuccesses < required) return 'none'
    this.#healthy = true
    this.#passiveFailures = 0
    this.#probeSuccesses = 0
    this.#downReason = undefined
    return 'up'
  }

  /** Records the outcome of a real request (only failures that count: connect errors, timeouts, listed statuses). */
  observed(ok: boolean, tolerated: number): Transition {
    if (ok) {
      this.#passiveFailures = 0
      return 'none'
    }
    this.#passiveFailures++
    if (this.#healthy && this.#passiveFailures >= tolerated) return this.#down('passive')
    return 'none'
  }

  /**
   * Starts or ends a drill outage. Ending it does not make the member healthy by itself: it is
   * marked down, and the next successful probe brings it back, as after a real outage.
   */
  setDrill(on: boolean): Transition {
    if (on === this.#drill) return 'none'
    this.#drill = on
    if (on) {
      const wasUp = this.#healthy
      this.#healthy = false
      this.#probeSuccesses = 0
      this.#downReason = 'drill'
      return wasUp ? 'down' : 'none'
    }
    this.#probeSuccesses = 0
    return 'none'
  }

  #down(reason: HealthReason): Transition {
    this.#healthy = false
    this.#probeSuccesses = 0
    this.#downReason = reason
    return this.#drill ? 'none' : 'down'
  }
}
