/**
 * The live state of one destination group: member health, background probes and the member
 * currently serving. Probes start on first use, run on unref'd jittered timers (so they never keep
 * the process alive and groups do not probe in lockstep) and stop when the group has been idle for
 * a while or on `close()`.
 */
import { debuglog } from 'node:util'
import { emitFailoverEvent as emit, type HealthReason } from './events'
import type { DestinationGroup, GroupMember, GroupStatus, ProbeSettings } from './group-types'
import { MemberState, type Transition } from './member-state'
import { countProbe, countSwitch, recordHealth } from './metrics'
import { priorityOrder, SmoothWeighted } from './routing'
import { probeOnce } from './probe-once'

const debug = debuglog('cap-connectivity:failover')

/**
 * Probes one member. Resolves with the HTTP status (HTTP members) or `{}` (a TCP connect that
 * succeeded); rejects when the member could not be reached. Must honour `signal`.
 */
export type MemberProber = (
  destination: string,
  probe: ProbeSettings,
  signal: AbortSignal,
) => Promise<{ status?: number }>

/** Probes are spread by up to this share of the interval, always earlier, so the failover bound still holds. */
const JITTER = 0.1
/** Probing stops after this many intervals (at least a minute) without a request through the group. */
const IDLE_INTERVALS = 10
const MIN_IDLE_MS = 60_000

export class GroupRuntime {
  readonly group: DestinationGroup
  readonly #prober: MemberProber
  readonly #members = new Map<string, MemberState>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #inflight = new Map<string, AbortController>()
  readonly #weighted = new SmoothWeighted()
  readonly #probedSinceStart = new Set<string>()
  readonly #simulated = new Set<string>()
  #roundWaiters: Array<() => void> = []
  #probing = false
  #closed = false
  #lastUsed = 0
  #active: string | undefined
  #lastActive: string | undefined

  constructor(group: DestinationGroup, prober: MemberProber) {
    this.group = group
    this.#prober = prober
    for (const m of group.members) this.#members.set(m.destination, new MemberState(m.destination))
    // Every member starts healthy (as Traffic Manager's "checking" state routes traffic): a fresh
    // process must not refuse requests until the first probe round is done.
    this.#active = group.routing === 'priority' ? group.members[0]?.destination : undefined
    this.#lastActive = this.#active
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Marks the group as used now and starts the probes if they are not running. */
  touch(): void {
    if (this.#closed) return
    this.#lastUsed = Date.now()
    if (!this.#probing) this.#start()
  }

  /** Members to try for one request, best first. When none is healthy, every member not held down by a drill (last resort). */
  order(): GroupMember[] {
    const isUp = (m: GroupMember): boolean => this.#state(m.destination).up
    const g = this.group
    const list =
      g.routing === 'priority'
        ? priorityOrder(g.members, isUp, g.failback ? undefined : this.#active)
        : this.#weighted.order(g.members.filter(isUp))
    if (list.length > 0) return list
    return g.members.filter((m) => !this.#state(m.destination).drillOutage)
  }

  /** Reports the outcome of a real request on a member (passive health). */
  observe(destination: string, ok: boolean): void {
    const t = this.#state(destination).observed(ok, this.group.probe.toleratedFailures)
    this.#apply(destination, t, 'passive')
  }

  /** Records which member served a request (the `active` member of weighted groups). */
  served(destination: string): void {
    if (this.group.routing === 'weighted') this.#active = destination
  }

  /** Starts or ends a drill outage of one member. */
  /**
   * Starts or ends a drill that fails the member's probes inside this process (the member itself is
   * untouched), so the drill measures detection by probes as in a real outage.
   */
  simulateProbeFailures(destination: string, on: boolean): void {
    this.#state(destination)
    if (on) this.#simulated.add(destination)
    else this.#simulated.delete(destination)
  }

  setDrill(destination: string, on: boolean): void {
    const s = this.#state(destination)
    const t = s.setDrill(on)
    this.#apply(destination, t, 'drill')
    if (!on) recordHealth(this.group.name, destination, s.up, false)
  }

  /** Resolves once every member has been probed at least once since the probes (re)started. */
  firstProbeRound(): Promise<void> {
    this.touch()
    if (this.#closed || this.#probedSinceStart.size >= this.#members.size) return Promise.resolve()
    return new Promise((resolve) => this.#roundWaiters.push(resolve))
  }

  status(): GroupStatus {
    const byName = new Map(this.group.members.map((m) => [m.destination, m]))
    return {
      name: this.group.name,
      routing: this.group.routing,
      ...(this.#active === undefined ? {} : { active: this.#active }),
      probing: this.#probing,
      members: [...this.#members.values()].map((s) => {
        const m = byName.get(s.destination) as GroupMember
        const p = s.lastProbe
        return {
          destination: s.destination,
          healthy: s.up,
          ...(this.group.routing === 'priority' ? { priority: m.priority } : { weight: m.weight }),
          consecutiveFailures: s.probeFailures,
          passiveFailures: s.passiveFailures,
          drillOutage: s.drillOutage,
          ...(p
            ? {
                lastProbe: {
                  at: new Date(p.at).toISOString(),
                  ...(p.status === undefined ? {} : { status: p.status }),
                  ...(p.error === undefined ? {} : { error: p.error }),
                },
              }
            : {}),
        }
      }),
    }
  }

  /** Stops the probes for good and aborts the ones in flight. */
  close(): void {
    this.#closed = true
    this.#stop()
  }

  #state(destination: string): MemberState {
    const s = this.#members.get(destination)
    if (!s)
      throw new RangeError(`"${destination}" is not a member of destination group "${this.group.name}".`)
    return s
  }

  #start(): void {
    this.#probing = true
    this.#probedSinceStart.clear()
    const first = Math.min(this.group.probe.intervalMs * JITTER, 250)
    for (const m of this.group.members) this.#schedule(m.destination, Math.random() * first)
    debug('group %s: probes started', this.group.name)
  }

  #stop(): void {
    this.#probing = false
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    for (const c of this.#inflight.values()) c.abort()
    this.#inflight.clear()
    const waiters = this.#roundWaiters
    this.#roundWaiters = []
    for (const w of waiters) w()
  }

  #schedule(destination: string, delayMs: number): void {
    const t = setTimeout(() => this.#tick(destination), delayMs)
    t.unref()
    this.#timers.set(destination, t)
  }

  #tick(destination: string): void {
    if (this.#closed || !this.#probing) return
    const { intervalMs } = this.group.probe
    const drilling = this.#simulated.size > 0 || [...this.#members.values()].some((s) => s.drillOutage)
    if (!drilling && Date.now() - this.#lastUsed > Math.max(intervalMs * IDLE_INTERVALS, MIN_IDLE_MS)) {
      debug('group %s: idle, probes stopped', this.group.name)
      this.#stop()
      return
    }
    // Fixed cadence from the start of each probe (not from its end), so a slow probe does not
    // stretch the detection time beyond interval × toleratedFailures + timeout.
    this.#schedule(destination, intervalMs * (1 - JITTER * Math.random()))
    if (!this.#inflight.has(destination)) void this.#probe(destination)
  }

  async #probe(destination: string): Promise<void> {
    const { probe } = this.group
    const controller = new AbortController()
    this.#inflight.set(destination, controller)
    const { ok, status, error } = await probeOnce(
      this.#simulated.has(destination)
        ? () => Promise.reject(new Error('simulated outage (drill)'))
        : (signal) => this.#prober(destination, probe, signal),
      probe,
      controller,
    )
    // A probe aborted by close() or by stopping must not change anything any more.
    if (this.#inflight.get(destination) !== controller) return
    this.#inflight.delete(destination)
    if (this.#closed) return
    countProbe(this.group.name, destination, ok)
    debug(
      'group %s: probe %s %s%s',
      this.group.name,
      destination,
      ok ? 'ok' : 'failed',
      error ? ` (${error})` : '',
    )
    const record = {
      at: Date.now(),
      ...(status === undefined ? {} : { status }),
      ...(error === undefined ? {} : { error }),
    }
    const t = this.#state(destination).probed(ok, record, probe.toleratedFailures, probe.requiredSuccesses)
    this.#apply(destination, t, 'probe')
    this.#probedSinceStart.add(destination)
    if (this.#probedSinceStart.size >= this.#members.size) {
      const waiters = this.#roundWaiters
      this.#roundWaiters = []
      for (const w of waiters) w()
    }
  }

  #apply(destination: string, t: Transition, reason: HealthReason): void {
    if (t === 'none') return
    const at = Date.now()
    recordHealth(this.group.name, destination, t === 'up', true)
    if (t === 'down') this.#weighted.reset(destination)
    debug('group %s: member %s %s (%s)', this.group.name, destination, t, reason)
    emit(t === 'down' ? 'member-down' : 'member-up', {
      group: this.group.name,
      destination,
      reason,
      at,
    })
    if (this.group.routing === 'priority') this.#reroute(at)
  }

  #reroute(at: number): void {
    const isUp = (m: GroupMember): boolean => this.#state(m.destination).up
    const g = this.group
    const next = priorityOrder(g.members, isUp, g.failback ? undefined : this.#active)[0]
    if (!next) {
      this.#active = undefined
      return
    }
    if (next.destination === this.#active) return
    this.#active = next.destination
    const prev = g.members.find((m) => m.destination === this.#lastActive)
    this.#lastActive = next.destination
    if (prev?.destination === next.destination) return
    const kind = prev && next.priority < prev.priority ? 'failback' : 'failover'
    countSwitch(g.name, kind)
    debug('group %s: %s %s -> %s', g.name, kind, prev?.destination ?? '-', next.destination)
    emit(kind, {
      group: g.name,
      ...(prev ? { from: prev.destination } : {}),
      to: next.destination,
      at,
    })
  }
}
