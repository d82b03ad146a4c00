/** Shared coarse timeouts (lib/tunnel/coarse-timer.ts), with real timers. */
import { describe, expect, it } from 'vitest'
import { coarseTimeout, RESOLUTION_MS } from '../../lib/tunnel/coarse-timer'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('coarseTimeout', () => {
  it('fires once, no earlier than asked and at most one resolution (plus scheduling) later', async () => {
    const started = performance.now()
    const fired: number[] = []
    coarseTimeout(60, () => fired.push(performance.now() - started))
    await sleep(60 + RESOLUTION_MS + 100)
    expect(fired).toHaveLength(1)
    expect(fired[0]).toBeGreaterThanOrEqual(60)
    expect(fired[0]).toBeLessThan(60 + RESOLUTION_MS + 90)
  })

  it('a cancelled timeout never fires; the others around it still do', async () => {
    const fired: string[] = []
    const cancelA = coarseTimeout(30, () => fired.push('a'))
    coarseTimeout(30, () => fired.push('b'))
    const cancelC = coarseTimeout(10_000, () => fired.push('c'))
    cancelA()
    await sleep(30 + RESOLUTION_MS + 100)
    cancelC()
    expect(fired).toEqual(['b'])
  })

  it('handles thousands of pending deadlines (all fire, each once)', async () => {
    let fired = 0
    for (let i = 0; i < 5000; i++) coarseTimeout(20 + (i % 50), () => fired++)
    await sleep(70 + RESOLUTION_MS + 150)
    expect(fired).toBe(5000)
  })
})
