import { afterEach, describe, expect, it } from 'vitest'
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

const probe = { path: '/health', intervalSeconds: 0.2, timeoutSeconds: 0.1, toleratedFailures: 2 }

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
    expect(r.timeToFailoverMs as number).toBeLessThanOrEqual(200 * 2 + 100 + 1000)
    expect(r.timeToFailbackMs).not.toBeNull()
    expect(r.timeToFailbackMs as number).toBeLessThanOrEqual(2 * 200 + 1000)
    expect(r.detectionBoundMs).toBe(500)
    expect(r.servedBy[0]).toMatchObject({ phase: 'before', member: 'EU', status: 200 })
    expect(r.servedBy.filter((s) => s.phase === 'outage').every((s) => s.member === 'US')).toBe(true)
    expect(r.servedBy.at(-1)).toMatchObject({ phase: 'released', member: 'EU', status: 200 })
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ ok: true, timeToFailoverMs: r.timeToFailoverMs })
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
})
