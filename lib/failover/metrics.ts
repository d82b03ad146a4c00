/**
 * Failover counters in the Prometheus text format. Labels are group and member names only
 * (never URLs, users or tokens); their number is bounded by the groups defined.
 */

import { exposition, familyLines, labelText, type MetricLabels as Labels } from '../prometheus'

interface Family {
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly values: Map<string, { labels: Labels; value: number }>
}

const families = new Map<string, Family>()

function family(name: string, help: string, type: 'counter' | 'gauge'): Family {
  let f = families.get(name)
  if (!f) {
    f = { help, type, values: new Map() }
    families.set(name, f)
  }
  return f
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels))
}

function add(
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  labels: Labels,
  delta: number,
  set = false,
): void {
  const f = family(name, help, type)
  const k = key(labels)
  const v = f.values.get(k)
  if (v) v.value = set ? delta : v.value + delta
  else f.values.set(k, { labels, value: delta })
}

/** Counts one request outcome on a member: `ok`, `retried` (moved on to another member) or `failed`. */
export function countRequest(group: string, member: string, outcome: 'ok' | 'retried' | 'failed'): void {
  add(
    'cap_connectivity_failover_requests_total',
    'Requests sent to group members by outcome.',
    'counter',
    { group, member, outcome },
    1,
  )
}

/** Counts one probe result. */
export function countProbe(group: string, member: string, ok: boolean): void {
  add(
    'cap_connectivity_failover_probes_total',
    'Health probes by result.',
    'counter',
    { group, member, result: ok ? 'ok' : 'fail' },
    1,
  )
}

/** Counts a member going down and records its health gauge. */
export function recordHealth(group: string, member: string, healthy: boolean, transition: boolean): void {
  add(
    'cap_connectivity_failover_member_healthy',
    'Health of a group member (1 healthy, 0 down).',
    'gauge',
    { group, member },
    healthy ? 1 : 0,
    true,
  )
  if (transition && !healthy) {
    add(
      'cap_connectivity_failover_member_down_total',
      'Times a member was marked down.',
      'counter',
      { group, member },
      1,
    )
  }
}

/** Counts a routing switch of a priority group. */
export function countSwitch(group: string, kind: 'failover' | 'failback'): void {
  const name =
    kind === 'failover'
      ? 'cap_connectivity_failover_failovers_total'
      : 'cap_connectivity_failover_failbacks_total'
  add(
    name,
    kind === 'failover'
      ? 'Switches to a lower-priority member.'
      : 'Switches back to a higher-priority member.',
    'counter',
    { group },
    1,
  )
}

/**
 * The failover counters as Prometheus exposition text (the tunnel server may append it to `/metrics`).
 * @example res.end(failoverMetricsText())
 */
export function failoverMetricsText(): string {
  const out: string[] = []
  for (const [name, f] of families) {
    const samples = [...f.values.values()].map(({ labels, value }) => [labelText(labels), value] as const)
    out.push(...familyLines(name, f.type, f.help, samples))
  }
  return exposition(out)
}

/** Drops every counter (tests, `closeFailover`). */
export function resetFailoverMetrics(): void {
  families.clear()
}
