import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../lib/tunnel/agent-http'
import { TunnelClient } from '../../lib/tunnel/client'
import { ForwardClient } from '../../lib/tunnel/forward'
import {
  echoServer,
  httpBackend,
  readAll,
  roundTrip,
  type Stack,
  startStack,
  token,
  waitFor,
} from './helpers'
import { loopbackRequest } from '../fixtures/http-client'

const SENTINEL = 'SENTINEL-SECRET-d41d8cd98f00'

let echo: Awaited<ReturnType<typeof echoServer>>
let backend: Awaited<ReturnType<typeof httpBackend>>
let stack: Stack
let fwd: ForwardClient
let ports: { tcp: number; http: number; unmapped: number; direct: number; notAllowed: number }
const audit: AuditEntry[] = []

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return loopbackRequest(port, path, { headers: { host: 's4.virtual:44300', ...headers } })
}

beforeAll(async () => {
  echo = await echoServer()
  backend = await httpBackend()
  stack = await startStack(
    {
      locationId: 'loc1',
      mappings: [
        {
          protocol: 'HTTP',
          virtualHost: 's4.virtual',
          virtualPort: 44300,
          internalHost: '127.0.0.1',
          internalPort: backend.port,
          resources: [
            { path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV', subPaths: true },
            { path: '/exact', subPaths: false },
          ],
        },
        {
          protocol: 'TCP',
          virtualHost: 'db.virtual',
          virtualPort: 3306,
          internalHost: '127.0.0.1',
          internalPort: echo.port,
        },
      ],
    },
    { allow: [`127.0.0.1:${echo.port}`] },
  )
  stack.agent.on('audit', (e: AuditEntry) => audit.push(e))
  fwd = new ForwardClient({
    server: stack.url,
    token: token('dev', 'acme'),
    locationId: 'loc1',
    mappings: [
      '0:db.virtual:3306',
      '0:s4.virtual:44300',
      '0:db.virtual:3307',
      `0:127.0.0.1:${echo.port}`,
      '0:127.0.0.1:9',
    ],
  })
  const ls = await fwd.start()
  const [tcp, httpPort, unmapped, direct, notAllowed] = ls.map((l) => l.address.port) as number[]
  ports = {
    tcp: tcp as number,
    http: httpPort as number,
    unmapped: unmapped as number,
    direct: direct as number,
    notAllowed: notAllowed as number,
  }
})

afterAll(async () => {
  await fwd?.close()
  await stack?.close()
  await echo?.close()
  await backend?.close()
})

describe('tunnel end to end: HTTP through forward client, server and agent', () => {
  it('forwards an allowed request and strips proxy and SAP connectivity headers', async () => {
    const r = await get(ports.http, '/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=1', {
      'proxy-authorization': `Bearer ${SENTINEL}`,
      'sap-connectivity-authentication': `Bearer ${SENTINEL}`,
      'x-custom': 'kept',
    })
    expect(r.status).toBe(200)
    expect(r.body).toBe('ok /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=1')
    const seen = backend.seen.at(-1)
    expect(seen?.headers['proxy-authorization']).toBeUndefined()
    expect(seen?.headers['sap-connectivity-authentication']).toBeUndefined()
    expect(seen?.headers['x-custom']).toBe('kept')
    expect(seen?.headers['x-forwarded-host']).toBe('s4.virtual:44300')
    expect(seen?.headers.host).toBe(`127.0.0.1:${backend.port}`)
  })

  it('sub-paths are a plain string prefix and the query is excluded', async () => {
    expect((await get(ports.http, '/sap/opu/odata/sap/API_SALES_ORDER_SRV_PLUS')).status).toBe(200)
    expect((await get(ports.http, '/exact?x=/../etc')).status).toBe(200)
  })

  const denied: [string, string, Record<string, string>?][] = [
    ['path outside every prefix', '/sap/opu/odata/sap/OTHER_SRV'],
    ['exact resource with a sub-path', '/exact/more'],
    ['case differs', '/SAP/opu/odata/sap/API_SALES_ORDER_SRV'],
    ['.. segment', '/sap/opu/odata/sap/API_SALES_ORDER_SRV/../../../OTHER'],
    ['%2e%2e segment', '/sap/opu/odata/sap/API_SALES_ORDER_SRV/%2e%2e/%2E%2E/OTHER'],
    ['encoded slash', '/sap/opu/odata/sap/API_SALES_ORDER_SRV%2f..%2fOTHER'],
    ['double encoding', '/sap/opu/odata/sap/API_SALES_ORDER_SRV/%252e%252e/OTHER'],
    ['wrong Host', '/sap/opu/odata/sap/API_SALES_ORDER_SRV/x', { host: 'evil.virtual:44300' }],
    ['wrong Host port', '/sap/opu/odata/sap/API_SALES_ORDER_SRV/x', { host: 's4.virtual:1' }],
  ]
  for (const [name, path, headers] of denied) {
    it(`denies: ${name}`, async () => {
      const before = backend.seen.length
      const r = await get(ports.http, path, headers)
      expect(r.status).toBe(403)
      expect(backend.seen.length).toBe(before)
    })
  }

  it('writes audit lines for allowed and denied requests without secrets', async () => {
    await get(ports.http, '/nope', { authorization: `Bearer ${SENTINEL}` })
    const last = audit.at(-1)
    expect(last).toMatchObject({
      decision: 'denied',
      protocol: 'HTTP',
      target: 's4.virtual:44300',
      caller: 'dev',
      path: '/nope',
    })
    expect(audit.some((e) => e.decision === 'allowed')).toBe(true)
    expect(JSON.stringify(audit)).not.toContain(SENTINEL)
    expect(stack.server.metrics()).not.toContain(SENTINEL)
  })
})

describe('tunnel end to end: raw TCP', () => {
  it('carries bytes and half-close: the client shuts its write side and still gets the full reply', async () => {
    const sock = net.connect(ports.tcp, '127.0.0.1')
    const r = await roundTrip(sock, 2 * 1024 * 1024)
    expect(r.received).toBe(r.sent)
    expect(r.bytes).toBe(2 * 1024 * 1024)
  })

  it('an unmapped port is denied and the local connection closes promptly', async () => {
    const errors: Error[] = []
    fwd.on('stream-error', (e: Error) => errors.push(e))
    const start = Date.now()
    const sock = net.connect(ports.unmapped, '127.0.0.1')
    sock.on('error', () => undefined)
    await new Promise((r) => sock.once('close', r))
    expect(Date.now() - start).toBeLessThan(1000)
    expect(errors.at(-1)).toMatchObject({ code: 'ACCESS_DENIED' })
  })

  it('a target on the server allowlist is reached from the server itself', async () => {
    const r = await roundTrip(net.connect(ports.direct, '127.0.0.1'), 10_000)
    expect(r.received).toBe(r.sent)
  })

  it('a target neither mapped nor allowlisted is refused', async () => {
    const errors: Error[] = []
    fwd.on('stream-error', (e: Error) => errors.push(e))
    const sock = net.connect(ports.notAllowed, '127.0.0.1')
    sock.on('error', () => undefined)
    await new Promise((r) => sock.once('close', r))
    expect(errors.at(-1)).toMatchObject({ code: 'ACCESS_DENIED' })
  })

  it('1 000 parallel streams with checksummed random data: zero mismatches', async () => {
    const client = new TunnelClient({ server: stack.url, token: token('bulk', 'acme'), locationId: 'loc1' })
    try {
      const results = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const s = await client.openStream({ host: 'db.virtual', port: 3306 })
          return roundTrip(s, 1024 + ((i * 7919) % 16384))
        }),
      )
      expect(results.filter((r) => r.sent !== r.received)).toHaveLength(0)
    } finally {
      await client.close()
    }
  })
})

describe('tunnel end to end: accounts, locations and liveness', () => {
  it("a client never reaches another account's agent", async () => {
    const other = await stack.startAgent('other', {
      locationId: 'loc1',
      mappings: [
        {
          protocol: 'TCP',
          virtualHost: 'secret.virtual',
          virtualPort: 1,
          internalHost: '127.0.0.1',
          internalPort: echo.port,
        },
      ],
    })
    const acme = new TunnelClient({ server: stack.url, token: token('dev', 'acme'), locationId: 'loc1' })
    const nobody = new TunnelClient({ server: stack.url, token: token('dev', 'nobody'), locationId: 'loc1' })
    const owner = new TunnelClient({ server: stack.url, token: token('dev', 'other'), locationId: 'loc1' })
    try {
      expect(await acme.openStream({ host: 'secret.virtual', port: 1 }).catch((e) => e.code)).toBe(
        'ACCESS_DENIED',
      )
      expect(await nobody.openStream({ host: 'secret.virtual', port: 1 }).catch((e) => e.code)).toBe(
        'TUNNEL_NO_AGENT',
      )
      const ok = await owner.openStream({ host: 'secret.virtual', port: 1 })
      const r = await roundTrip(ok, 100)
      expect(r.received).toBe(r.sent)
      expect(
        await acme
          .openStream({ host: 'db.virtual', port: 3306, locationId: 'elsewhere' })
          .catch((e) => e.code),
      ).toBe('TUNNEL_NO_AGENT')
    } finally {
      await Promise.all([acme.close(), nobody.close(), owner.close()])
      await other.stop()
    }
  })

  it('agent killed mid-traffic: in-flight streams fail clearly, new streams succeed within 2 s of a restart', async () => {
    const client = new TunnelClient({ server: stack.url, token: token('dev', 'acme'), locationId: 'loc1' })
    try {
      const inflight = await client.openStream({ host: 'db.virtual', port: 3306 })
      const failed = new Promise<Error | undefined>((resolve) => {
        inflight.on('error', resolve)
        inflight.on('close', () => resolve(undefined))
      })
      inflight.resume()
      inflight.write(Buffer.alloc(100_000))
      // Kill: the agent's TCP connection dies without a close handshake, and the agent is gone.
      const dying = stack.agent
      dying.session?.ws.terminate()
      await dying.stop()
      const err = await failed
      expect(err ?? inflight.resetError).toMatchObject({
        code: expect.stringMatching(/TUNNEL_CLOSED|STREAM_RESET/),
      })
      const restarted = Date.now()
      const fresh = await stack.startAgent()
      const r = await roundTrip(await client.openStream({ host: 'db.virtual', port: 3306 }), 1000)
      expect(r.received).toBe(r.sent)
      expect(Date.now() - restarted).toBeLessThan(2000)
      stack.agent = fresh
    } finally {
      await client.close()
    }
  })

  it('the agent reconnects by itself after its session drops', async () => {
    const agent = stack.agent
    const reconnected = new Promise<void>((r) => agent.once('connected', () => r()))
    const start = Date.now()
    agent.session?.ws.terminate()
    await reconnected
    await waitFor(
      () => stack.server.agents('acme').some((a) => a.mappings.length === 2),
      2000,
      'announcement',
    )
    expect(Date.now() - start).toBeLessThan(2000)
    const r = await roundTrip(net.connect(ports.tcp, '127.0.0.1'), 1000)
    expect(r.received).toBe(r.sent)
  })

  it('serves /healthz and /metrics', async () => {
    const port = stack.server.address()?.port as number
    const health = await new Promise<string>((resolve) =>
      http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) =>
        readAll(res as never).then((b) => resolve(b.toString())),
      ),
    )
    expect(JSON.parse(health).status).toBe('ok')
    const metrics = stack.server.metrics()
    expect(metrics).toMatch(/tunnel_sessions\{account="acme",location="loc1",role="agent"\} 1/)
    expect(metrics).toMatch(
      /tunnel_stream_errors_total\{account="acme",location="loc1",code="ACCESS_DENIED"\} \d+/,
    )
    expect(metrics).toMatch(
      /tunnel_bytes_total\{account="acme",location="loc1",role="client",direction="out"\} \d+/,
    )
  })
})
