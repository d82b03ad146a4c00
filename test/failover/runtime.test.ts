import { afterEach, describe, expect, it } from 'vitest'
import { failoverEvents, type MemberEvent, type SwitchEvent } from '../../lib/failover/events'
import { GroupRuntime } from '../../lib/failover/group-runtime'
import { parseGroup } from '../../lib/failover/parse-group'
import { makeAgent, sleep, startMember, undiciProber, waitFor } from './helpers'

// Short enough to keep the tests fast, long enough that a loaded CI machine does not time probes out.
const INTERVAL = 300
const TIMEOUT = 250
const TOLERATED = 2

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(probe: Record<string, unknown> = {}, routing: 'priority' | 'weighted' = 'priority') {
  const a = await startMember('A')
  const b = await startMember('B')
  const agent = makeAgent()
  const group = parseGroup({
    name: 'G',
    routing,
    members: [
      { destination: 'A', priority: 1 },
      { destination: 'B', priority: 2 },
    ],
    probe: {
      path: '/health',
      intervalSeconds: INTERVAL / 1000,
      timeoutSeconds: TIMEOUT / 1000,
      toleratedFailures: TOLERATED,
      ...probe,
    },
  })
  const rt = new GroupRuntime(group, undiciProber({ A: a, B: b }, agent))
  cleanups.push(
    () => a.close(),
    () => b.close(),
    () => agent.close(),
    () => rt.close(),
  )
  return { a, b, rt }
}

const first = (rt: GroupRuntime): string | undefined => rt.order()[0]?.destination

describe('GroupRuntime health and priority routing', () => {
  it('sends all traffic to the healthy primary', async () => {
    const { a, b, rt } = await setup()
    await rt.firstProbeRound()
    for (let i = 0; i < 3; i++) {
      await sleep(INTERVAL)
      expect(first(rt)).toBe('A')
    }
    expect(rt.status().active).toBe('A')
    expect(a.hits.probe).toBeGreaterThanOrEqual(3)
    expect(b.hits.probe).toBeGreaterThanOrEqual(3)
  })

  it('fails over when the primary answers 500 to probes twice, and fails back after it recovers', async () => {
    const { a, rt } = await setup()
    const events: string[] = []
    const onDown = (e: MemberEvent) => events.push(`down:${e.destination}:${e.reason}`)
    const onUp = (e: MemberEvent) => events.push(`up:${e.destination}:${e.reason}`)
    const onFailover = (e: SwitchEvent) => events.push(`failover:${e.from}->${e.to}`)
    const onFailback = (e: SwitchEvent) => events.push(`failback:${e.from}->${e.to}`)
    failoverEvents
      .on('member-down', onDown)
      .on('member-up', onUp)
      .on('failover', onFailover)
      .on('failback', onFailback)
    cleanups.push(() => {
      failoverEvents
        .off('member-down', onDown)
        .off('member-up', onUp)
        .off('failover', onFailover)
        .off('failback', onFailback)
    })
    await rt.firstProbeRound()
    a.probeStatus = 500
    const failoverMs = await waitFor(() => first(rt) === 'B', 5000)
    // The bound of the issue: interval × toleratedFailures + probe timeout + 1 s.
    expect(failoverMs).toBeLessThanOrEqual(INTERVAL * TOLERATED + TIMEOUT + 1000)
    // And not before the second failed probe: one bad probe is tolerated.
    expect(rt.status().members[0]?.consecutiveFailures).toBeGreaterThanOrEqual(TOLERATED)
    expect(rt.status().active).toBe('B')
    a.probeStatus = 200
    const failbackMs = await waitFor(() => first(rt) === 'A', 5000)
    expect(failbackMs).toBeLessThanOrEqual(2 * INTERVAL + 1000)
    expect(events).toEqual(['down:A:probe', 'failover:A->B', 'up:A:probe', 'failback:B->A'])
    expect(rt.status().members[0]).toMatchObject({ destination: 'A', healthy: true, consecutiveFailures: 0 })
  })

  it('does not fail over after a single failed probe', async () => {
    const { a, rt } = await setup({ toleratedFailures: 3 })
    await rt.firstProbeRound()
    a.probeStatus = 503
    await waitFor(() => (rt.status().members[0]?.consecutiveFailures ?? 0) >= 1, 2000)
    a.probeStatus = 200
    await sleep(INTERVAL * 3)
    expect(first(rt)).toBe('A')
    expect(rt.status().members[0]?.consecutiveFailures).toBe(0)
  })

  it('treats an expected 401 as healthy (probes without credentials)', async () => {
    const { a, b, rt } = await setup({ expectedStatus: ['200-299', '401'] })
    a.probeStatus = 401
    b.probeStatus = 401
    await rt.firstProbeRound()
    await sleep(INTERVAL * 3)
    expect(first(rt)).toBe('A')
    expect(rt.status().members.every((m) => m.healthy && m.lastProbe?.status === 401)).toBe(true)
    a.probeStatus = 403
    await waitFor(() => first(rt) === 'B', INTERVAL * TOLERATED + TIMEOUT + 1000)
    expect(rt.status().members[0]?.lastProbe?.error).toBe('unexpected status 403')
  })

  it('counts a probe timeout as a failure', async () => {
    const { a, rt } = await setup()
    await rt.firstProbeRound()
    a.probeDelayMs = TIMEOUT * 3
    const ms = await waitFor(() => first(rt) === 'B', 5000)
    expect(ms).toBeLessThanOrEqual(INTERVAL * TOLERATED + TIMEOUT + 1000)
    expect(rt.status().members[0]?.lastProbe?.error).toMatch(/timed out after 250 ms/)
  })

  it('counts a refused connection as a failed probe', async () => {
    const { a, rt } = await setup()
    await rt.firstProbeRound()
    await a.kill()
    await waitFor(() => first(rt) === 'B', INTERVAL * TOLERATED + TIMEOUT + 1000)
    expect(rt.status().members[0]?.lastProbe?.error).toMatch(/ECONNREFUSED/)
  })

  it('marks a member down from failed real requests before the next probe (passive health)', async () => {
    const { rt } = await setup({ intervalSeconds: 30, timeoutSeconds: 5 })
    await rt.firstProbeRound()
    rt.observe('A', false)
    expect(first(rt)).toBe('A')
    rt.observe('A', false)
    expect(first(rt)).toBe('B')
    expect(rt.status().members[0]).toMatchObject({
      healthy: false,
      passiveFailures: 2,
      consecutiveFailures: 0,
    })
  })

  it('a successful real request resets passive failures but never the probe failure count', async () => {
    const { a, rt } = await setup({ toleratedFailures: 3 })
    await rt.firstProbeRound()
    a.probeStatus = 500
    // Real traffic keeps succeeding while the probes fail: the member still goes down, as with Traffic Manager.
    const traffic = setInterval(() => rt.observe('A', true), 20)
    cleanups.push(() => clearInterval(traffic))
    await waitFor(() => first(rt) === 'B', INTERVAL * 3 + TIMEOUT + 1000)
    expect(rt.status().members[0]?.consecutiveFailures).toBeGreaterThanOrEqual(3)
    rt.observe('A', false)
    rt.observe('A', true)
    expect(rt.status().members[0]?.passiveFailures).toBe(0)
  })

  it('stays on the secondary after recovery when failback is false', async () => {
    const a = await startMember('A')
    const b = await startMember('B')
    const agent = makeAgent()
    const group = parseGroup({
      name: 'NF',
      failback: false,
      members: [{ destination: 'A' }, { destination: 'B' }],
      probe: { path: '/health', intervalSeconds: 0.3, timeoutSeconds: 0.25, toleratedFailures: 1 },
    })
    const rt = new GroupRuntime(group, undiciProber({ A: a, B: b }, agent))
    cleanups.push(
      () => a.close(),
      () => b.close(),
      () => agent.close(),
      () => rt.close(),
    )
    await rt.firstProbeRound()
    a.probeStatus = 500
    await waitFor(() => first(rt) === 'B', 2000)
    a.probeStatus = 200
    await waitFor(() => rt.status().members[0]?.healthy === true, 2000)
    await sleep(2 * INTERVAL)
    expect(first(rt)).toBe('B')
    expect(rt.order().map((m) => m.destination)).toEqual(['B', 'A'])
  })

  it('routes to every member as a last resort when none is healthy, and drills hold a member down', async () => {
    const { rt } = await setup({ intervalSeconds: 30, timeoutSeconds: 5 })
    await rt.firstProbeRound()
    rt.setDrill('A', true)
    expect(rt.order().map((m) => m.destination)).toEqual(['B'])
    rt.observe('B', false)
    rt.observe('B', false)
    // B is down too: try B (not held by the drill) rather than refuse outright.
    expect(rt.order().map((m) => m.destination)).toEqual(['B'])
    expect(rt.status().members[0]).toMatchObject({ healthy: false, drillOutage: true })
  })

  it('releases a drilled member only after a fresh successful probe', async () => {
    const { rt } = await setup()
    await rt.firstProbeRound()
    rt.setDrill('A', true)
    expect(first(rt)).toBe('B')
    await sleep(INTERVAL * 2)
    // Probes succeed during the drill, but the member stays down.
    expect(first(rt)).toBe('B')
    rt.setDrill('A', false)
    expect(first(rt)).toBe('B')
    const ms = await waitFor(() => first(rt) === 'A', 2 * INTERVAL + 1000)
    expect(ms).toBeLessThanOrEqual(2 * INTERVAL + 1000)
  })

  it('keeps working when an event listener throws (the error becomes a process warning)', async () => {
    const { rt } = await setup({ intervalSeconds: 30, timeoutSeconds: 5 })
    const boom = () => {
      throw new Error('listener bug')
    }
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    failoverEvents.on('member-down', boom)
    process.on('warning', onWarning)
    cleanups.push(() => {
      failoverEvents.off('member-down', boom)
      process.off('warning', onWarning)
    })
    rt.observe('A', false)
    expect(() => rt.observe('A', false)).not.toThrow()
    expect(first(rt)).toBe('B')
    await waitFor(() => warnings.length > 0, 1000)
    expect(warnings[0]).toMatch(/"member-down" listener threw: listener bug/)
  })
})
