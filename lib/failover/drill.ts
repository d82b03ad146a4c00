/**
 * DR drills: take the serving member of a group out inside this process (a simulated outage —
 * nothing changes on the remote system), keep sending the group's probe request through the
 * group's routing, and measure how long until another member serves, and how long until the
 * member serves again after it is released (it must pass a fresh probe first, as after a real outage).
 */
import { DestinationError } from '../errors'
import { executeOnGroup } from './execute'
import type { GroupEntry } from './registry'
import { matchesStatus } from './status-range'

export interface DrillOptions {
  /**
   * `mark-down` (default): the member is marked down at once; the times show the switch inside the client.
   * `probe-failures`: the member's probes fail from now on (inside this process), so the time to fail
   * over includes detection by probes, as in a real outage.
   */
  readonly mode?: 'mark-down' | 'probe-failures'
  /** Pause between drill requests in ms (default: a tenth of the probe interval, 20-250 ms). */
  readonly requestIntervalMs?: number
  /** How long the member is held down after another member took over, in ms (default: 5 request intervals). */
  readonly outageMs?: number
  readonly signal?: AbortSignal
}

export interface DrillRequest {
  /** Milliseconds since the drill started. */
  readonly atMs: number
  readonly phase: 'before' | 'outage' | 'released'
  /** The member that answered (absent when the request failed). */
  readonly member?: string
  readonly status?: number
  readonly error?: string
}

export interface DrillResult {
  /** True when another healthy member took over and, where fail-back applies, the member came back. */
  readonly ok: boolean
  readonly group: string
  readonly routing: 'priority' | 'weighted'
  readonly mode: 'mark-down' | 'probe-failures'
  /** The member that was taken out. */
  readonly member?: string
  /** The member that served first during the outage. */
  readonly takeover?: string
  readonly timeToFailoverMs: number | null
  readonly timeToFailbackMs: number | null
  /** Worst case for detecting a real outage by probes: interval × toleratedFailures + timeout. */
  readonly detectionBoundMs: number
  readonly servedBy: readonly DrillRequest[]
  readonly message: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Runs a drill on a loaded group entry. The group's probes run during the drill.
 * @throws DestinationError NO_HEALTHY_MEMBER is not thrown: an unhealthy group gives `ok: false`.
 */
export async function drillGroup(entry: GroupEntry, options: DrillOptions = {}): Promise<DrillResult> {
  const { runtime, prober } = entry
  const g = runtime.group
  const { probe } = g
  const every = options.requestIntervalMs ?? Math.min(250, Math.max(20, Math.round(probe.intervalMs / 10)))
  const detectionBoundMs = probe.intervalMs * probe.toleratedFailures + probe.timeoutMs
  const start = Date.now()
  const servedBy: DrillRequest[] = []
  const mode = options.mode ?? 'mark-down'
  if (mode !== 'mark-down' && mode !== 'probe-failures') {
    throw new RangeError('runDrill: options.mode must be "mark-down" or "probe-failures"')
  }
  const base = { group: g.name, routing: g.routing, mode, detectionBoundMs, servedBy }
  const outage = (member: string, on: boolean): void =>
    mode === 'mark-down' ? runtime.setDrill(member, on) : runtime.simulateProbeFailures(member, on)

  const send = async (phase: DrillRequest['phase']): Promise<DrillRequest> => {
    let member: string | undefined
    const rec = await executeOnGroup(runtime, {
      method: probe.method,
      idempotent: true,
      signal: options.signal,
      send: async (m) => {
        member = m
        const timeout = AbortSignal.timeout(probe.timeoutMs)
        const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
        return prober(m, probe, signal)
      },
      statusOf: (r) => r.status,
      discard: async () => {},
      replayable: () => true,
    }).then(
      (r): DrillRequest => ({
        atMs: Date.now() - start,
        phase,
        ...(member === undefined ? {} : { member }),
        ...(r.status === undefined ? {} : { status: r.status }),
        ...(r.status === undefined || matchesStatus(r.status, probe.expectedStatus)
          ? {}
          : { error: `unexpected status ${r.status}` }),
      }),
      (err: unknown): DrillRequest => ({
        atMs: Date.now() - start,
        phase,
        error:
          err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : 'failed',
      }),
    )
    servedBy.push(rec)
    return rec
  }
  const good = (r: DrillRequest): boolean => r.member !== undefined && r.error === undefined
  // Every early end of the drill is a failed result without times.
  const failed = (message: string, member?: string): DrillResult =>
    ordered({
      ...base,
      ok: false,
      ...(member === undefined ? {} : { member }),
      timeToFailoverMs: null,
      timeToFailbackMs: null,
      message,
    })

  await Promise.race([runtime.firstProbeRound(), sleep(probe.intervalMs + probe.timeoutMs + 1000)])
  const member = runtime
    .order()
    .find((m) => runtime.status().members.find((s) => s.destination === m.destination)?.healthy)
  if (!member) {
    return failed(`No member of group "${g.name}" is healthy; nothing to drill.`)
  }
  const drilled = member.destination
  // A slow answer or a hiccup before the drill is not what the drill measures: allow three tries.
  let before = await send('before')
  for (let i = 0; i < 2 && !good(before); i++) {
    await sleep(every)
    before = await send('before')
  }
  if (!good(before)) {
    const message = `The group's probe request did not succeed before the drill (${before.error ?? 'no answer'}).`
    return failed(message, drilled)
  }

  // Outage: the member is marked down now (or its probes start failing); measure until another
  // member answers as expected.
  const t0 = Date.now()
  outage(drilled, true)
  let takeover: string | undefined
  let timeToFailoverMs: number | null = null
  try {
    while (Date.now() - t0 <= detectionBoundMs + 1000 && options.signal?.aborted !== true) {
      const r = await send('outage')
      if (good(r) && r.member !== drilled) {
        takeover = r.member
        timeToFailoverMs = Date.now() - t0
        break
      }
      await sleep(every)
    }
    const holdUntil = Date.now() + (options.outageMs ?? every * 5)
    while (takeover && Date.now() < holdUntil && options.signal?.aborted !== true) {
      await sleep(every)
      await send('outage')
    }
  } finally {
    outage(drilled, false)
  }
  if (!takeover) {
    const message = `No healthy member took over from "${drilled}" within ${detectionBoundMs + 1000} ms.`
    return failed(message, drilled)
  }

  // Release: the member needs a fresh successful probe, then traffic must come back to it.
  const expectBack = g.routing === 'weighted' || g.failback
  const t1 = Date.now()
  let timeToFailbackMs: number | null = null
  const backBound = 2 * probe.intervalMs + probe.timeoutMs + 1000
  while (expectBack && Date.now() - t1 <= backBound && options.signal?.aborted !== true) {
    await sleep(every)
    const r = await send('released')
    if (good(r) && r.member === drilled) {
      timeToFailbackMs = Date.now() - t1
      break
    }
  }
  const ok = !expectBack || timeToFailbackMs !== null
  const message = !expectBack
    ? `"${takeover}" took over from "${drilled}" in ${timeToFailoverMs} ms; fail-back is disabled for this group.`
    : ok
      ? `"${takeover}" took over from "${drilled}" in ${timeToFailoverMs} ms; "${drilled}" served again ${timeToFailbackMs} ms after release.`
      : `"${takeover}" took over from "${drilled}" in ${timeToFailoverMs} ms, but "${drilled}" did not serve again within ${backBound} ms of release.`
  return ordered({ ...base, ok, member: drilled, takeover, timeToFailoverMs, timeToFailbackMs, message })
}

/** The result with `ok` and the two times first, the per-request list last (easier to read in --json output). */
function ordered(r: DrillResult): DrillResult {
  const {
    ok,
    group,
    routing,
    mode,
    member,
    takeover,
    timeToFailoverMs,
    timeToFailbackMs,
    detectionBoundMs,
    message,
    servedBy,
  } = r
  return {
    ok,
    timeToFailoverMs,
    timeToFailbackMs,
    group,
    routing,
    mode,
    ...(member === undefined ? {} : { member }),
    ...(takeover === undefined ? {} : { takeover }),
    detectionBoundMs,
    message,
    servedBy,
  }
}

/** The error for an unknown group name. */
export function groupNotFound(name: string, where: string): DestinationError {
  return new DestinationError(
    'DESTINATION_NOT_FOUND',
    `Destination group "${name}" not found in ${where}. Declare it under "groups" in the destinations file or with registerDestinationGroup.`,
    { details: { group: name } },
  )
}
