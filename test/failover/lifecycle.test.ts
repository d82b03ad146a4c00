import { afterEach, describe, expect, it, vi } from 'vitest'
import { TransportError } from '../../lib/errors'
import { classifyFailure } from '../../lib/failover/classify'
import { GroupRuntime } from '../../lib/failover/group-runtime'
import { parseGroup } from '../../lib/failover/parse-group'

afterEach(() => {
  vi.useRealTimers()
})

function counting() {
  const calls: string[] = []
  const prober = async (dest: string) => {
    calls.push(dest)
    return { status: 200 }
  }
  const group = parseGroup({
    name: 'L',
    members: [{ destination: 'A' }, { destination: 'B' }],
    probe: { intervalSeconds: 1, timeoutSeconds: 0.5 },
  })
  return { calls, rt: new GroupRuntime(group, prober) }
}

describe('probe lifecycle (fake timers)', () => {
  it('does not probe before first use, probes at the interval, and stops when the group is idle', async () => {
    vi.useFakeTimers()
    const { calls, rt } = counting()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(calls).toHaveLength(0)
    rt.touch()
    await vi.advanceTimersByTimeAsync(10_000)
    // About one probe per member and second; jitter only makes them earlier, never later.
    const perMember = calls.filter((c) => c === 'A').length
    expect(perMember).toBeGreaterThanOrEqual(10)
    expect(perMember).toBeLessThanOrEqual(13)
    // Unused for more than the idle time (10 intervals, at least 60 s): the probes stop.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(rt.status().probing).toBe(false)
    const stopped = calls.length
    await vi.advanceTimersByTimeAsync(30_000)
    expect(calls.length).toBe(stopped)
    // The next use starts them again.
    rt.touch()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(calls.length).toBeGreaterThan(stopped)
    rt.close()
  })

  it('stops every probe on close()', async () => {
    vi.useFakeTimers()
    const { calls, rt } = counting()
    rt.touch()
    await vi.advanceTimersByTimeAsync(3_000)
    rt.close()
    const n = calls.length
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls.length).toBe(n)
    expect(rt.status().probing).toBe(false)
    rt.touch()
    await vi.advanceTimersByTimeAsync(3_000)
    expect(calls.length).toBe(n)
  })
})

describe('classifyFailure', () => {
  const err = (
    code: 'CONNECT_FAILED' | 'CONNECT_TIMEOUT' | 'CONNECTION_RESET' | 'HTTP_TIMEOUT' | 'ACCESS_DENIED',
    sent?: boolean,
  ) => new TransportError(code, 'x', { details: sent === undefined ? {} : { requestSent: sent } })

  it('uses details.requestSent of our transport errors', () => {
    expect(classifyFailure(err('CONNECT_FAILED', false))).toMatchObject({
      kind: 'connect-error',
      sent: false,
    })
    expect(classifyFailure(err('CONNECTION_RESET', true))).toMatchObject({
      kind: 'connect-error',
      sent: true,
    })
    expect(classifyFailure(err('CONNECT_TIMEOUT', false))).toMatchObject({
      kind: 'timeout',
      sent: false,
      alsoConnectError: true,
    })
    expect(classifyFailure(err('HTTP_TIMEOUT', true))).toMatchObject({ kind: 'timeout', sent: true })
    // Not a member outage: never retried elsewhere, never counted against the member.
    expect(classifyFailure(err('ACCESS_DENIED', false))).toMatchObject({ kind: 'fatal' })
  })

  it('assumes a request may have been sent when it is not known', () => {
    expect(classifyFailure(err('CONNECTION_RESET'))).toMatchObject({ sent: true })
    expect(classifyFailure(err('HTTP_TIMEOUT'))).toMatchObject({ sent: true })
  })

  it('maps raw socket errors, also inside cause chains', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyFailure(refused)).toMatchObject({ kind: 'connect-error', sent: false })
    expect(classifyFailure(new TypeError('fetch failed', { cause: refused }))).toMatchObject({
      kind: 'connect-error',
      sent: false,
    })
    expect(classifyFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({
      sent: true,
    })
    expect(classifyFailure(new Error('boom'))).toMatchObject({ kind: 'fatal' })
  })
})
