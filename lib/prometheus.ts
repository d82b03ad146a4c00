/**
 * The Prometheus text exposition format, shared by the tunnel server's, the failover groups' and
 * the local proxy's metrics so label escaping and family layout are written once.
 */

export type MetricLabels = Readonly<Record<string, string>>

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** `{k="v",…}` with values escaped; empty for no labels. */
export function labelText(labels: MetricLabels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

/** One metric family: HELP and TYPE lines, then a sample line per (label text, value). */
export function familyLines(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  samples: Iterable<readonly [string, number]>,
): string[] {
  const out = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`)
  return out
}

/** Lines joined as exposition text (ends with a newline; empty for no lines). */
export function exposition(lines: readonly string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : ''
}
