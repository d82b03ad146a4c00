/**
 * Groups end to end: declared in a destinations file, served by the real HTTP client and TCP
 * connector, probed by the default probes, drilled through the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { configureDestinations } from '../../lib/destination/resolve'
import { hasErrorCode } from '../../lib/errors'
import { getGroupStatus } from '../../lib/failover/find-group'
import { connectTcp, request } from '../../lib/failover/group-request'
import { failoverMetricsText } from '../../lib/failover/metrics'
import { closeFailover } from '../../lib/failover/registry'
import { runCli } from '../fixtures/cli'
import { type Member, sleep, startMember, waitFor } from './helpers'
import { listenLoopback } from '../fixtures/net'
import { waitUntil } from '../fixtures/wait'

const SECRET = 'sentinel-Pa55word-never-logged'
// Short enough to keep the tests fast, long enough that a loaded CI machine does not time probes out.
const INTERVAL = 300
const TIMEOUT = 250

interface Echo {
  port: number
  accepted: number
  kill(): Promise<void>
}

async function startEcho(): Promise<Echo> {
  const sockets = new Set<net.Socket>()
  const e: Echo = { port: 0, accepted: 0, kill: async () => {} }
  const server = net.createServer((s) => {
    e.accepted++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.pipe(s)
  })
  e.port = await listenLoopback(server)
  e.kill = async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
  return e
}

let dir: string
let file: string
let eu: Member
let us: Member
let db1: Echo
let db2: Echo

function writeFile(extraGroups: unknown[] = []): void {
  const http = (name: string, m: Member) => ({
    Name: name,
    Type: 'HTTP',
    URL: m.url,
    ProxyType: 'Internet',
    Authentication: 'BasicAuthentication',
    User: 'cpi-user',
    Password: SECRET,
  })
  const probe = {
    path: '/health',
    expectedStatus: ['200-299', '401'],
    intervalSeconds: INTERVAL / 1000,
    timeoutSeconds: TIMEOUT / 1000,
    toleratedFailures: 2,
  }
  writeFileSync(
    file,
    JSON.stringify({
      destinations: [
        http('CPI_EU20', eu),
        http('CPI_US21', us),
        { Name: 'DB1', Type: 'TCP', Address: `127.0.0.1:${db1.port}`, ProxyType: 'Internet' },
        { Name: 'DB2', Type: 'TCP', Address: `127.0.0.1:${db2.port}`, ProxyType: 'Internet' },
      ],
      groups: [
        {
          name: 'CPI',
          routing: 'priority',
          members: [
            { destination: 'CPI_EU20', priority: 1 },
            { destination: 'CPI_US21', priority: 2 },
          ],
          probe,
          failback: true,
          retryOn: ['connect-error', 'timeout', '503'],
        },
        {
          name: 'DB',
          members: [{ destination: 'DB1' }, { destination: 'DB2' }],
          probe: { ...probe, path: undefined },
        },
        ...extraGroups,
      ],
    }),
  )
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'failover-'))
  file = join(dir, 'destinations.json')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  closeFailover()
  configureDestinations({})
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(): Promise<void> {
  eu = await startMember('EU')
  us = await startMember('US')
  db1 = await startEcho()
  db2 = await startEcho()
  cleanups.push(
    () => eu.close(),
    () => us.close(),
    () => db1.kill().catch(() => {}),
    () => db2.kill().catch(() => {}),
  )
  // Like CPI: the health iFlow answers 401 to a probe without credentials.
  eu.probeStatus = 401
  us.probeStatus = 401
  writeFile()
  configureDestinations({ file })
}

describe('destination groups end to end', () => {
  it('routes a group name from the destinations file to the primary; probes carry no credentials', async () => {
    await setup()
    for (let i = 0; i < 3; i++) {
      const res = await request('CPI', { path: '/api' })
      expect(await res.text()).toBe('EU')
    }
    await waitFor(() => eu.hits.probe >= 2 && us.hits.probe >= 2, 3000)
    const status = await getGroupStatus('CPI')
    expect(status).toMatchObject({ name: 'CPI', routing: 'priority', active: 'CPI_EU20', probing: true })
    expect(status.members.map((m) => [m.destination, m.healthy, m.lastProbe?.status])).toEqual([
      ['CPI_EU20', true, 401],
      ['CPI_US21', true, 401],
    ])
    // The real request authenticated; the probes did not (sendCredentials defaults to false).
    expect(eu.hits.realAuth.every((a) => a.startsWith('Basic '))).toBe(true)
    expect(eu.hits.probeAuth.every((a) => a === '')).toBe(true)
    // A plain destination name passes straight through.
    expect(await (await request('CPI_US21', { path: '/api' })).text()).toBe('US')
  })

  it('fails over on probe failures and back after recovery, within the bounds', async () => {
    await setup()
    await request('CPI', { path: '/api' })
    await waitFor(() => eu.hits.probe >= 1, 3000)
    eu.probeStatus = 500
    const t0 = Date.now()
    let served = ''
    while (Date.now() - t0 < 5000) {
      served = await (await request('CPI', { path: '/api' })).text()
      if (served === 'US') break
      await sleep(20)
    }
    expect(served).toBe('US')
    expect(Date.now() - t0).toBeLessThanOrEqual(INTERVAL * 2 + TIMEOUT + 1000)
    eu.probeStatus = 401
    const t1 = Date.now()
    while (Date.now() - t1 < 5000) {
      served = await (await request('CPI', { path: '/api' })).text()
      if (served === 'EU') break
      await sleep(20)
    }
    expect(served).toBe('EU')
    expect(Date.now() - t1).toBeLessThanOrEqual(2 * INTERVAL + 1000)
  })

  it('does not resend a POST that may have reached the member, but sends a GET to the next one', async () => {
    await setup()
    eu.mode = 'drop'
    const err = await request('CPI', { method: 'POST', path: '/api', body: 'order-1', csrf: false }).catch(
      (e: unknown) => e,
    )
    expect(hasErrorCode(err, 'REQUEST_NOT_RETRIED')).toBe(true)
    expect((err as Error).message).toMatch(/may have reached the server/)
    expect((err as Error).message).not.toContain(SECRET)
    expect(us.hits.real).toBe(0)
    expect(await (await request('CPI', { path: '/api' })).text()).toBe('US')
    const ok = await request('CPI', {
      method: 'POST',
      path: '/api',
      body: 'order-2',
      csrf: false,
      idempotent: true,
    })
    expect(await ok.text()).toBe('US')
  })

  it('retries a timed-out GET once on the next member; a timed-out POST is not repeated', async () => {
    await setup()
    eu.realDelayMs = 3000
    const t0 = Date.now()
    expect(await (await request('CPI', { path: '/api', timeout: 500 })).text()).toBe('US')
    expect(Date.now() - t0).toBeLessThan(2500)
    const err = await request('CPI', {
      method: 'POST',
      path: '/api',
      body: 'x',
      csrf: false,
      timeout: 500,
    }).catch((e: unknown) => e)
    expect(hasErrorCode(err, 'REQUEST_NOT_RETRIED')).toBe(true)
    expect((err as Error).message).toMatch(/HTTP_TIMEOUT/)
    expect(us.hits.realByMethod.POST).toBeUndefined()
  })

  it('keeps every GET succeeding while the primary is killed under load', async () => {
    await setup()
    let failed = 0
    let ok = 0
    let stop = false
    const worker = async () => {
      while (!stop) {
        try {
          await (await request('CPI', { path: '/api' })).text()
          ok++
        } catch {
          failed++
        }
      }
    }
    const workers = Array.from({ length: 6 }, worker)
    await sleep(200)
    await eu.kill()
    await sleep(700)
    stop = true
    await Promise.all(workers)
    expect(failed).toBe(0)
    expect(ok).toBeGreaterThan(30)
    expect((await getGroupStatus('CPI')).active).toBe('CPI_US21')
  })

  it('fails over a group of TCP destinations on connect errors and by TCP-connect probes', async () => {
    await setup()
    const s1 = await connectTcp('DB')
    s1.end('ping')
    expect(db1.accepted).toBe(1)
    s1.destroy()
    await db1.kill()
    const s2 = await connectTcp('DB')
    const echoed = await new Promise<string>((resolve) => {
      s2.once('data', (d: Buffer) => resolve(d.toString()))
      s2.write('hello')
    })
    expect(echoed).toBe('hello')
    s2.destroy()
    expect(db2.accepted).toBeGreaterThanOrEqual(1)
    // The probes (TCP connects, no path) mark DB1 down soon after.
    await waitForAsync(
      async () => (await getGroupStatus('DB')).members[0]?.healthy === false,
      INTERVAL * 2 + TIMEOUT + 1000,
    )
    expect((await getGroupStatus('DB')).members[0]?.lastProbe?.error).toMatch(/CONNECT_FAILED/)
  })

  it('exposes counters as Prometheus text without secrets', async () => {
    await setup()
    await request('CPI', { path: '/api' })
    await waitFor(() => eu.hits.probe >= 1, 3000)
    await sleep(50)
    const text = failoverMetricsText()
    expect(text).toMatch(/# TYPE cap_connectivity_failover_requests_total counter/)
    expect(text).toMatch(
      /cap_connectivity_failover_requests_total\{group="CPI",member="CPI_EU20",outcome="ok"\} \d+/,
    )
    expect(text).toMatch(
      /cap_connectivity_failover_probes_total\{group="CPI",member="CPI_EU20",result="ok"\} \d+/,
    )
    expect(text).not.toContain(SECRET)
  })

  it('sends the member credentials with probes only when sendCredentials is true', async () => {
    await setup()
    writeFile([
      {
        name: 'CRED',
        members: [{ destination: 'CPI_EU20' }, { destination: 'CPI_US21' }],
        probe: {
          path: '/health',
          intervalSeconds: INTERVAL / 1000,
          timeoutSeconds: TIMEOUT / 1000,
          sendCredentials: true,
        },
      },
    ])
    configureDestinations({ file })
    expect(await (await request('CRED', { path: '/api' })).text()).toBe('EU')
    await waitFor(() => eu.hits.probe >= 1, 3000)
    const expected = `Basic ${Buffer.from(`cpi-user:${SECRET}`).toString('base64')}`
    expect(eu.hits.probeAuth[0]).toBe(expected)
  })

  it('rejects a file whose group names an unknown member', async () => {
    await setup()
    writeFile([{ name: 'BAD', members: [{ destination: 'NOPE' }] }])
    configureDestinations({ file })
    const err = await request('BAD', { path: '/api' }).catch((e: unknown) => e)
    expect(hasErrorCode(err, 'DESTINATION_INVALID')).toBe(true)
    expect((err as Error).message).toMatch(/member "NOPE" is not a destination of this file/)
  })

  it('runs the drill CLI with --json and exits 0; exits 1 when no member can take over', async () => {
    await setup()
    configureDestinations({})
    const { code, out } = await runCli('drill', 'CPI', '--file', file, '--json')
    const result = JSON.parse(out)
    expect(code).toBe(0)
    expect(result).toMatchObject({ ok: true, group: 'CPI', member: 'CPI_EU20', takeover: 'CPI_US21' })
    expect(result.timeToFailoverMs).toBeGreaterThanOrEqual(0)
    expect(result.timeToFailoverMs).toBeLessThanOrEqual(INTERVAL * 2 + TIMEOUT + 1000)
    expect(result.timeToFailbackMs).toBeLessThanOrEqual(2 * INTERVAL + 1000)
    expect(result.servedBy.map((s: { member?: string }) => s.member)).toContain('CPI_US21')
    expect(out).not.toContain(SECRET)
    console.log(
      `drill: timeToFailoverMs=${result.timeToFailoverMs} timeToFailbackMs=${result.timeToFailbackMs}`,
    )

    await us.kill()
    const { code: code2, out: out2 } = await runCli('drill', 'CPI', '--file', file)
    expect(code2).toBe(1)
    expect(out2).toMatch(/FAILED: No healthy member took over from "CPI_EU20"/)
  })
})

function waitForAsync(cond: () => Promise<boolean>, maxMs: number): Promise<number> {
  return waitUntil(cond, { timeoutMs: maxMs })
}
