/**
 * The CLI's tunnel processes run without V8 incremental marking (lib/cli/gc.ts). Checked in real
 * child processes: Node reports incremental-marking GC events exactly when marking is on.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const GC = path.resolve(__dirname, '../../dist/cli/gc.js')

// Churns objects with buffers for ~0.6 s (bounded), then reports which GC kinds Node saw.
const script = `
const tune = process.argv[1] === 'tune'
const applied = tune ? require(${JSON.stringify(GC)}).tuneTunnelGc() : false
const { PerformanceObserver, constants } = require('node:perf_hooks')
let incremental = 0, major = 0
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) incremental++
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
  }
}).observe({ entryTypes: ['gc'] })
const keep = []
const until = Date.now() + 600
while (Date.now() < until) {
  for (let i = 0; i < 1000; i++) keep.push({ b: Buffer.allocUnsafe(2048), i })
  if (keep.length > 100000) keep.splice(0, 50000)
}
setTimeout(() => console.log(JSON.stringify({ applied, incremental, major })), 20)
`

function run(nodeFlags: string[], tune: boolean): { applied: boolean; incremental: number; major: number } {
  const out = execFileSync(process.execPath, [...nodeFlags, '-e', script, tune ? 'tune' : 'plain'], {
    encoding: 'utf8',
    timeout: 20_000,
  })
  return JSON.parse(out)
}

describe('tunnel process GC setting', () => {
  it('is what makes V8 stop incremental marking cycles (full collections still run)', () => {
    const plain = run([], false)
    expect(plain.incremental).toBeGreaterThan(0)
    const tuned = run([], true)
    expect(tuned.applied).toBe(true)
    expect(tuned.incremental).toBe(0)
    expect(tuned.major).toBeGreaterThan(0)
  })

  it('leaves a marking flag the user gave node alone', () => {
    const r = run(['--incremental-marking'], true)
    expect(r.applied).toBe(false)
    expect(r.incremental).toBeGreaterThan(0)
  })
})
