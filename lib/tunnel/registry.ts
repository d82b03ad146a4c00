/**
 * Live sessions on the server, grouped by account and location. Agents announce the virtual
 * host:port ranges they map; a new stream goes to the least-loaded live agent that maps the target.
 */
import { EventEmitter } from 'node:events'
import { normaliseHost } from './allowlist'
import type { TunnelSession } from './session'

export interface AnnouncedMapping {
  readonly host: string
  readonly portLo: number
  readonly portHi: number
  readonly protocol: string
}

export interface SessionEntry {
  readonly id: number
  readonly role: 'agent' | 'client'
  readonly account: string
  readonly locationId: string
  readonly subject: string
  readonly session: TunnelSession
  readonly connectedAt: number
  mappings: readonly AnnouncedMapping[]
  /** True once the agent's first ANNOUNCE arrived (routing waits briefly for it). */
  announced: boolean
}

/** Public view of a connected agent (no session internals). */
export interface AgentInfo {
  readonly id: number
  readonly account: string
  readonly locationId: string
  readonly subject: string
  readonly streams: number
  readonly mappings: readonly AnnouncedMapping[]
}

/** Parses an agent's ANNOUNCE body; invalid entries are dropped (the agent is the authority anyway). */
export function parseAnnouncement(body: unknown): AnnouncedMapping[] {
  const list = (body as { mappings?: unknown } | null)?.mappings
  if (!Array.isArray(list)) return []
  const out: AnnouncedMapping[] = []
  for (const m of list.slice(0, 10_000)) {
    const o = m as { host?: unknown; ports?: unknown; protocol?: unknown } | null
    const ports = Array.isArray(o?.ports) ? o.ports : []
    const [lo, hi] = ports
    if (
      typeof o?.host !== 'string' ||
      typeof lo !== 'number' ||
      typeof hi !== 'number' ||
      lo < 1 ||
      hi > 65535 ||
      hi < lo
    )
      continue
    out.push({ host: normaliseHost(o.host), portLo: lo, portHi: hi, protocol: String(o.protocol ?? 'TCP') })
  }
  return out
}

export class SessionRegistry {
  readonly #events = new EventEmitter().setMaxListeners(0)
  #agents = new Map<string, Set<SessionEntry>>()
  #all = new Set<SessionEntry>()
  #nextId = 1

  add(entry: Omit<SessionEntry, 'id' | 'mappings' | 'announced'>): SessionEntry {
    const e: SessionEntry = { ...entry, id: this.#nextId++, mappings: [], announced: false }
    this.#all.add(e)
    if (e.role === 'agent') {
      const key = this.#key(e.account, e.locationId)
      let set = this.#agents.get(key)
      if (!set) {
        set = new Set()
        this.#agents.set(key, set)
      }
      set.add(e)
    }
    return e
  }

  /** Records an agent's announcement and wakes routes waiting for it. */
  announce(e: SessionEntry, mappings: readonly AnnouncedMapping[]): void {
    e.mappings = mappings
    e.announced = true
    this.#events.emit('announce', e)
  }

  /**
   * Waits (at most `timeoutMs`) until every given agent has announced: a stream opened right
   * after an agent connected must not be refused because its ANNOUNCE is still in flight.
   */
  async whenAnnounced(agents: readonly SessionEntry[], timeoutMs: number): Promise<void> {
    if (agents.every((a) => a.announced)) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#events.off('announce', check)
        resolve()
      }
      const check = (): void => {
        if (agents.every((a) => a.announced || a.session.closed)) done()
      }
      const timer = setTimeout(done, timeoutMs)
      this.#events.on('announce', check)
    })
  }

  remove(e: SessionEntry): void {
    this.#all.delete(e)
    const key = this.#key(e.account, e.locationId)
    const set = this.#agents.get(key)
    if (set?.delete(e) && set.size === 0) this.#agents.delete(key)
  }

  /** Live (not draining) agents of an account at a location. */
  liveAgents(account: string, locationId: string): SessionEntry[] {
    return [...(this.#agents.get(this.#key(account, locationId)) ?? [])].filter((e) => !e.session.draining)
  }

  /** The least-loaded live agent that maps host:port, or undefined. */
  pick(agents: readonly SessionEntry[], host: string, port: number): SessionEntry | undefined {
    const h = normaliseHost(host)
    let best: SessionEntry | undefined
    for (const a of agents) {
      if (!a.mappings.some((m) => m.host === h && port >= m.portLo && port <= m.portHi)) continue
      if (!best || a.session.streamCount < best.session.streamCount) best = a
    }
    return best
  }

  entries(): IterableIterator<SessionEntry> {
    return this.#all.values()
  }

  agents(account?: string): AgentInfo[] {
    return [...this.#all]
      .filter((e) => e.role === 'agent' && (account === undefined || e.account === account))
      .map((e) => ({
        id: e.id,
        account: e.account,
        locationId: e.locationId,
        subject: e.subject,
        streams: e.session.streamCount,
        mappings: e.mappings,
      }))
  }

  #key(account: string, locationId: string): string {
    return `${account}\u0000${locationId}`
  }
}
