/**
 * `npm start` (scripts/start.js) as a user runs it: it prints the URLs, serves the sample through
 * the tunnel, and SIGINT/SIGTERM stop it and every child process within 10 s.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

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

function startDemo(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['scripts/start.js'], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => {
    output += d
  })
  child.stderr!.on('data', (d) => {
    output += d
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${output}`)), 60_000)
    child.once('exit', (code) => reject(new Error(`start.js exited with ${code}:\n${output}`)))
    const check = () => {
      const m = /Sales orders: (http:\/\/localhost:\d+)/.exec(output)
      if (!m) return
      clearTimeout(timer)
      child.stdout!.off('data', check)
      child.removeAllListeners('exit')
      resolve({ child, url: m[1]!, output: () => output })
    }
    child.stdout!.on('data', check)
  })
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
