/**
 * Failover events. One process-wide emitter, so an app can log or alert on every group without
 * holding references to them.
 */
import { EventEmitter } from 'node:events'

/** Why a member changed state: its probes, real traffic, or a DR drill. */
export type HealthReason = 'probe' | 'passive' | 'drill'

export interface MemberEvent {
  readonly group: string
  readonly destination: string
  readonly reason: HealthReason
  /** Epoch ms. */
  readonly at: number
}

export interface SwitchEvent {
  readonly group: string
  /** The member that served before (absent when none had been chosen yet). */
  readonly from?: string
  readonly to: string
  readonly at: number
}

/** Event names and payloads of `failoverEvents`. */
export interface FailoverEventMap {
  'member-down': [MemberEvent]
  'member-up': [MemberEvent]
  /** Priority routing moved to a lower-priority member. */
  failover: [SwitchEvent]
  /** Priority routing went back to a higher-priority member. */
  failback: [SwitchEvent]
}

/**
 * Emits `member-down`, `member-up`, `failover` and `failback` for every group.
 * @example failoverEvents.on('failover', (e) => console.warn(`${e.group}: ${e.from} → ${e.to}`))
 */
export const failoverEvents: EventEmitter<FailoverEventMap> = new EventEmitter<FailoverEventMap>()
// Many groups × a few subscribers each is normal; the default limit of 10 would warn spuriously.
failoverEvents.setMaxListeners(100)

/**
 * Emits an event without letting a throwing listener break a probe or a user's request (health
 * changes are reported from inside both); the listener's error becomes a process warning.
 */
export function emitFailoverEvent<K extends keyof FailoverEventMap>(
  name: K,
  ...args: FailoverEventMap[K]
): void {
  try {
    ;(failoverEvents.emit as (n: K, ...a: FailoverEventMap[K]) => boolean)(name, ...args)
  } catch (err) {
    process.emitWarning(
      `A failoverEvents "${name}" listener threw: ${err instanceof Error ? err.message : String(err)}`,
      'FailoverListenerWarning',
    )
  }
}
