/**
 * Host:port allowlists with port ranges (`db.internal:5432`, `10.0.0.5:8000-8099`, `[::1]:22`),
 * deny by default. Host names compare case-insensitively; `*` as host allows any host on the ports.
 */

export interface HostPortRule {
  readonly host: string
  readonly portLo: number
  readonly portHi: number
}

/** Parses `lo` or `lo-hi` into a port range. Returns undefined when it is not one. */
export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim())
  if (!m) return undefined
  const lo = Number(m[1])
  const hi = m[2] === undefined ? lo : Number(m[2])
  if (lo < 1 || hi > 65535 || hi < lo) return undefined
  return [lo, hi]
}

/**
 * Parses one `host:port[-port]` rule.
 * @throws RangeError naming the rule when it is malformed.
 */
export function parseHostPortRule(rule: string): HostPortRule {
  const text = rule.trim()
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):([0-9-]+)$/.exec(text)
  const ports = m ? parsePortRange(m[2] as string) : undefined
  if (!m || !ports) throw new RangeError(`allow rule "${rule}" is not host:port or host:lo-hi`)
  return { host: normaliseHost(m[1] as string), portLo: ports[0], portHi: ports[1] }
}

/** Lower-cases a host and strips IPv6 brackets. */
export function normaliseHost(host: string): string {
  const h = host.toLowerCase()
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

/** A deny-by-default list of host:port rules. */
export class HostPortAllowlist {
  readonly rules: readonly HostPortRule[]

  constructor(rules: readonly string[] = []) {
    this.rules = rules.map(parseHostPortRule)
  }

  allows(host: string, port: number): boolean {
    const h = normaliseHost(host)
    return this.rules.some((r) => (r.host === '*' || r.host === h) && port >= r.portLo && port <= r.portHi)
  }
}
