import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../lib/cli/main'
import { runDrill } from '../../lib/failover/find-group'
import {
  closeFailover,
  registerDestinationGroup,
  unregisterDestinationGroup,
} from '../../lib/failover/registry'
import { makeAgent, type Member, startMember, undiciProber } from './helpers'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  closeFailover()
})

async function members(...names: string[]): Promise<Record<string, Member>> {
  const out: Record<string, Member> = {}
  for (const n of names) {
    const m = await startMember(n)
    out[n] = m
    cleanups.push(() => m.close())
  }
  return out
}

// Short enough to keep the tests fast, long enough that a loaded CI machine does not time probes out.
const INTERVAL = 300
const TIMEOUT = 250
const probe = {
  path: '/health',
  intervalSeconds: INTERVAL / 1000,
  timeoutSeconds: TIMEOUT / 1000,
  toleratedFailures: 2,
}

describe('runDrill', () => {
  it('reports time to fail over, who served each request, and time to fail back', async () => {
    const ms = await members('EU', 'US')
    const agent = makeAgent()
    cleanups.push(() => agent.close())
    registerDestinationGroup(
      { name: 'CPI', members: [{ destination: 'EU' }, { destination: 'US' }], probe },
      { prober: undiciProber(ms, agent) },
    )
    const r = await runDrill('CPI')
    expect(r.ok).toBe(true)
    expect(r.member).toBe('EU')
    expect(r.takeover).toBe('US')
    expect(r.timeToFailoverMs).not.toBeNull()
    expect(r.timeToFailoverMs as number).toBeLessThanOrEqual(INTERVAL * 2 + TIMEOUT + 1000)
    expect(r.timeToFailbackMs).not.toBeNull()
    expect(r.timeToFailbackMs as number).toBeLessThanOrEqual(2 * INTERVAL + 1000)
    expect(r.detectionBoundMs).toBe(INTERVAL * 2 + TIMEOUT)
    expect(r.servedBy[0]).toMatchObject({ phase: 'before', member: 'EU', status: 200 })
    expect(r.servedBy.filter((s) => s.phase === 'outage').every((s) => s.member === 'US')).toBe(true)
    expect(r.servedBy.at(-1)).toMatchObject({ phase: 'released', member: 'EU', status: 200 })
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ ok: true, timeToFailoverMs: r.timeToFailoverMs })
  })

  it('probe-failures mode measures detection by probes within interval × toleratedFailures + timeout + 1 s', async () => {
    const ms = await members('EU', 'US')
    const agent = makeAgent()
    cleanups.push(() => agent.close())
    registerDestinationGroup(
      { name: 'CPI', members: [{ destination: 'EU' }, { destination: 'US' }], probe },
      { prober: undiciProber(ms, agent) },
    )
    const r = await runDrill('CPI', { mode: 'probe-failures' })
    expect(r).toMatchObject({ ok: true, mode: 'probe-failures', member: 'EU', takeover: 'US' })
    // Detection takes at least one more probe (toleratedFailures 2) and at most the bound.
    expect(r.timeToFailoverMs as number).toBeGreaterThanOrEqual(100)
    expect(r.timeToFailoverMs as number).toBeLessThanOrEqual(r.detectionBoundMs + 1000)
    expect(r.timeToFailbackMs as number).toBeLessThanOrEqual(2 * INTERVAL + 1000)
    // Until detection, the member still served: nothing was changed on it.
    expect(r.servedBy.filter((s) => s.phase === 'outage')[0]?.member).toBe('EU')
    // The member itself was never failing: its real probe endpoint kept answering 200.
    expect((ms.EU as Member).probeStatus).toBe(200)
    await expect(runDrill('CPI', { mode: 'bogus' as 'mark-down' })).rejects.toThrow(RangeError)
  })

  it('fails when no healthy member takes over', async () => {
    const ms = await members('EU', 'US')
    const agent = makeAgent()
    cleanups.push(() => agent.close())
    ;(ms.US as Member).probeStatus = 500
    registerDestinationGroup(
      { name: 'CPI', members: [{ destination: 'EU' }, { destination: 'US' }], probe },
      { prober: undiciProber(ms, agent) },
    )
    const r = await runDrill('CPI')
    expect(r.ok).toBe(false)
    expect(r.takeover).toBeUndefined()
    expect(r.timeToFailoverMs).toBeNull()
    expect(r.message).toMatch(/No healthy member took over from "EU"/)
  })

  it('does not expect fail-back when the group has failback: false', async () => {
    const ms = await members('EU', 'US')
    const agent = makeAgent()
    cleanups.push(() => agent.close())
    registerDestinationGroup(
      { name: 'CPI', failback: false, members: [{ destination: 'EU' }, { destination: 'US' }], probe },
      { prober: undiciProber(ms, agent) },
    )
    const r = await runDrill('CPI')
    expect(r).toMatchObject({ ok: true, takeover: 'US', timeToFailbackMs: null })
    expect(r.message).toMatch(/fail-back is disabled/)
  })

  it('throws DESTINATION_NOT_FOUND for an unknown or unregistered group', async () => {
    await expect(runDrill('NOPE')).rejects.toMatchObject({ code: 'DESTINATION_NOT_FOUND' })
    registerDestinationGroup(
      { name: 'TMP', members: [{ destination: 'X' }] },
      { prober: async () => ({ status: 200 }) },
    )
    expect(unregisterDestinationGroup('TMP')).toBe(true)
    expect(unregisterDestinationGroup('TMP')).toBe(false)
    await expect(runDrill('TMP')).rejects.toMatchObject({ code: 'DESTINATION_NOT_FOUND' })
  })

  it('drill CLI: usage errors exit 2, an unknown group exits 1 with the error code', async () => {
    const err: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk))
      return true
    })
    cleanups.push(() => spy.mockRestore())
    expect(await main(['drill'])).toBe(2)
    expect(err.join('')).toMatch(/give the name of a destination group/)
    expect(await main(['drill', 'A', 'B'])).toBe(2)
    expect(await main(['drill', 'NOPE'])).toBe(1)
    expect(err.join('')).toMatch(/error DESTINATION_NOT_FOUND: Destination group "NOPE" not found/)
  })
})
