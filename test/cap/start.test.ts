/**
 * `npm start` (scripts/start.js) as a user runs it: it prints the URLs, serves the sample through
 * the tunnel, and SIGINT/SIGTERM stop it and every child process within 10 s.
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startReadyChild } from '../fixtures/child'

const root = path.resolve(__dirname, '..', '..')

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
  const children = new Map<number, number[]>()
  for (const line of out.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number)
    children.set(pp!, [...(children.get(pp!) ?? []), p!])
  }
  const all: number[] = []
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      all.push(c)
      walk(c)
    }
  }
  walk(pid)
  return all
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function startDemo(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const { child, match, chunks } = await startReadyChild(process.execPath, ['scripts/start.js'], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    ready: /Sales orders: (http:\/\/localhost:\d+)/,
    readyOn: 'all',
    timeoutMs: 60_000,
  })
  return { child, url: match[1]!, output: () => chunks.join('') }
}

describe.each(['SIGINT', 'SIGTERM'] as const)('npm start, then %s', (signal) => {
  it('serves the sample through the tunnel and stops everything within 10 s', async () => {
    const { child, url, output } = await startDemo()
    try {
      const auth = `Basic ${Buffer.from('alice:').toString('base64')}`
      const res = await fetch(`${url}/odata/v4/sales/getTopOrders(top=3,currency='AED')`, {
        headers: { authorization: auth },
      })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { value: { TransactionCurrency: string }[] }
      expect(body.value.map((r) => r.TransactionCurrency)).toEqual(['AED', 'AED', 'AED'])
      expect(output()).toContain("getTopOrders(top=3,currency='AED')")
      // The mock logged the propagated user.
      const line = /\[s4-mock\] GET .*A_SalesOrder.* as alice \(propagated\)/
      for (let i = 0; i < 60 && !line.test(output()); i++) await new Promise((r) => setTimeout(r, 50))
      expect(output()).toMatch(line)

      const kids = descendants(child.pid!)
      expect(kids.length).toBeGreaterThanOrEqual(2) // the S/4 mock and the CAP app
      const started = Date.now()
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      child.kill(signal)
      expect(await exited).toBe(0)
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(kids.filter(alive)).toEqual([])
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }, 90_000)
})
