import { afterEach, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { executeOnGroup, isIdempotent } from '../../lib/failover/execute'
import { GroupRuntime } from '../../lib/failover/group-runtime'
import { parseGroup } from '../../lib/failover/parse-group'
import { makeAgent, type Member, sleep, startMember, undiciAttempt, undiciProber } from './helpers'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(names: string[], extra: Record<string, unknown> = {}) {
  const members: Record<string, Member> = {}
  for (const n of names) {
    members[n] = await startMember(n)
    cleanups.push(() => members[n]?.close())
  }
  const agent = makeAgent()
  cleanups.push(() => agent.close())
  const group = parseGroup({
    name: 'G',
    members: names.map((n) => ({
      destination: n,
      ...(extra.routing === 'weighted' ? { weight: n === 'A' ? 3 : 1 } : {}),
    })),
    probe: { path: '/health', intervalSeconds: 0.3, timeoutSeconds: 0.25, toleratedFailures: 2 },
    ...extra,
  })
  const rt = new GroupRuntime(group, undiciProber(members, agent))
  cleanups.push(() => rt.close())
  return { members, agent, rt }
}

async function text(p: Promise<{ statusCode: number; body: { text(): Promise<string> } }>): Promise<string> {
  const r = await p
  return `${r.statusCode} ${await r.body.text()}`
}

describe('executeOnGroup retry rules', () => {
  it('knows the idempotent methods, and idempotent: true overrides', () => {
    expect(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].every((m) => isIdempotent(m, undefined))).toBe(true)
    expect(isIdempotent('POST', undefined)).toBe(false)
    expect(isIdempotent('PATCH', undefined)).toBe(false)
    expect(isIdempotent('POST', true)).toBe(true)
    expect(isIdempotent('GET', false)).toBe(false)
  })

  it('gives zero failed GETs while the primary is killed under load', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    const { A, B } = members as { A: Member; B: Member }
    await rt.firstProbeRound()
    let failed = 0
    let ok = 0
    const served: Record<string, number> = {}
    let stop = false
    const worker = async () => {
      while (!stop) {
        try {
          const body = await text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))
          ok++
          served[body] = (served[body] ?? 0) + 1
        } catch {
          failed++
        }
      }
    }
    // Bounded load: 8 concurrent clients for about 1.2 s.
    const workers = Array.from({ length: 8 }, worker)
    await sleep(300)
    await A.kill()
    await sleep(900)
    stop = true
    await Promise.all(workers)
    expect(failed).toBe(0)
    expect(ok).toBeGreaterThan(50)
    expect(served['200 A']).toBeGreaterThan(0)
    expect(served['200 B']).toBeGreaterThan(0)
    expect(rt.status().members[0]?.healthy).toBe(false)
    expect(B.hits.real).toBe(served['200 B'])
  })

  it('sends a POST to the next member when the connection was refused (nothing was sent)', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    await members.A?.kill()
    expect(await text(executeOnGroup(rt, undiciAttempt(members, agent, 'POST', { body: 'x' })))).toBe('200 B')
    expect(members.B?.hits.realByMethod.POST).toBe(1)
  })

  it('never sends a POST twice when it may have reached the member: REQUEST_NOT_RETRIED', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    ;(members.A as Member).mode = 'drop'
    const err = await executeOnGroup(rt, undiciAttempt(members, agent, 'POST', { body: 'order' })).catch(
      (e: unknown) => e,
    )
    expect(hasErrorCode(err, 'REQUEST_NOT_RETRIED')).toBe(true)
    expect((err as Error).message).toMatch(/may have reached the server/)
    expect((err as Error).message).toMatch(/member "A"/)
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({
      group: 'G',
      destination: 'A',
      requestSent: true,
    })
    expect(members.A?.hits.realByMethod.POST).toBe(1)
    expect(members.B?.hits.real).toBe(0)
  })

  it('retries a POST marked idempotent, and a GET, once on the next member', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    ;(members.A as Member).mode = 'drop'
    expect(
      await text(executeOnGroup(rt, undiciAttempt(members, agent, 'POST', { body: 'x', idempotent: true }))),
    ).toBe('200 B')
    expect(await text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))).toBe('200 B')
    expect(members.A?.hits.real).toBe(2)
  })

  it('retries a sent idempotent request only once', async () => {
    const { members, agent, rt } = await setup(['A', 'B', 'C'])
    for (const m of Object.values(members)) m.mode = 'drop'
    const err = await executeOnGroup(rt, undiciAttempt(members, agent, 'GET')).catch((e: unknown) => e)
    expect((err as { code?: string }).code).toBe('UND_ERR_SOCKET')
    expect(members.A?.hits.real).toBe(1)
    expect(members.B?.hits.real).toBe(1)
    expect(members.C?.hits.real).toBe(0)
  })

  it('treats a listed status like a failure: GET retried, POST not retried', async () => {
    const { members, agent, rt } = await setup(['A', 'B'], {
      retryOn: ['connect-error', 'timeout', '503'],
      // Slow probes: only the real requests decide A's health here.
      probe: { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, toleratedFailures: 2 },
    })
    ;(members.A as Member).status = 503
    expect(await text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))).toBe('200 B')
    const err = await executeOnGroup(rt, undiciAttempt(members, agent, 'POST', { body: 'x' })).catch(
      (e: unknown) => e,
    )
    expect(hasErrorCode(err, 'REQUEST_NOT_RETRIED')).toBe(true)
    expect((err as { details: Record<string, unknown> }).details.status).toBe(503)
    expect(members.B?.hits.realByMethod.POST).toBeUndefined()
    // Two listed statuses in a row count as passive failures: A is down now.
    expect(rt.order()[0]?.destination).toBe('B')
  })

  it('returns an unlisted error status as is, without retrying', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    ;(members.A as Member).status = 500
    expect(await text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))).toBe('500 A')
    expect(members.B?.hits.real).toBe(0)
  })

  it('fails with NO_HEALTHY_MEMBER when no member can be reached', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    await members.A?.kill()
    await members.B?.kill()
    const err = await executeOnGroup(rt, undiciAttempt(members, agent, 'GET')).catch((e: unknown) => e)
    expect(hasErrorCode(err, 'NO_HEALTHY_MEMBER')).toBe(true)
    expect((err as Error).message).toMatch(/tried A \(ECONNREFUSED\), B \(ECONNREFUSED\)/)
    expect((err as { details: Record<string, unknown> }).details.requestSent).toBe(false)
  })

  it('splits traffic by weight among healthy members (3:1 within 5 %)', async () => {
    const { members, agent, rt } = await setup(['A', 'B'], { routing: 'weighted' })
    const served: Record<string, number> = {}
    const N = 400
    for (let i = 0; i < N; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, () => text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))),
      )
      for (const b of batch) served[b] = (served[b] ?? 0) + 1
    }
    expect(Math.abs((served['200 A'] ?? 0) / N - 0.75)).toBeLessThanOrEqual(0.05)
    expect((served['200 A'] ?? 0) + (served['200 B'] ?? 0)).toBe(N)
    expect(rt.status()).toMatchObject({ routing: 'weighted', members: [{ weight: 3 }, { weight: 1 }] })
    // With A down (its probes fail too, so it stays down), B takes everything.
    ;(members.A as Member).probeStatus = 500
    rt.observe('A', false)
    rt.observe('A', false)
    for (let i = 0; i < 10; i++)
      expect(await text(executeOnGroup(rt, undiciAttempt(members, agent, 'GET')))).toBe('200 B')
    expect(rt.status().active).toBe('B')
  })

  it('stops at once when the caller aborts', async () => {
    const { members, agent, rt } = await setup(['A', 'B'])
    const ac = new AbortController()
    ac.abort()
    await expect(
      executeOnGroup(rt, undiciAttempt(members, agent, 'GET', { signal: ac.signal })),
    ).rejects.toThrow()
    expect(members.B?.hits.real).toBe(0)
  })
})
