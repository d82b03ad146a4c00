/**
 * The sample app end to end, in process with cds.test: SalesService → plugin → tunnel server →
 * agent (allowlist + principal propagation) → S/4 mock (a child process). Plus a credentials.url
 * service, an opted-out service, and the failure paths (agent gone, wrong password).
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TunnelAgent as Agent } from '../../lib/tunnel'

// The built package (as the CAP app uses it), not the TS sources: one copy of the tunnel code.
const { createDevToken, createPrincipalHook, TunnelAgent, TunnelServer } = require('cap-connectivity/tunnel')

const { startS4Mock } = require('../../sample-app/s4-mock/launch.js')
const { announced } = require('../../sample-app/scripts/demo.js')
const cds = require('@sap/cds')

const APP = path.resolve(__dirname, '..', '..', 'sample-app')
const ODATA = '/sap/opu/odata/sap/API_SALES_ORDER_SRV'
const SENTINEL = 'Sentinel-Pa55word-7f3a9c'
const secret = randomBytes(32).toString('base64url')

interface MockRequest {
  method: string
  url: string
  user: string | null
  via: string | null
}
let mock: { url: string; port: number; stop(): Promise<void>; requests(): Promise<MockRequest[]> }
let server: {
  listen(): Promise<void>
  close(): Promise<void>
  address(): unknown
  agents(account?: string): { locationId: string; mappings: unknown[] }[]
}
let tunnelUrl: string
let agent: Agent
const token = (subject: string) => createDevToken({ secret, subject, account: 'demo', ttlSeconds: 3600 })
const agentConfig = (mockPort: number) => ({
  locationId: 'dc1',
  trust: { secret },
  mappings: [
    {
      protocol: 'HTTP',
      virtualHost: 's4-onprem',
      virtualPort: 44300,
      internalHost: '127.0.0.1',
      internalPort: mockPort,
      resources: [{ path: ODATA, subPaths: true }],
      principalPropagation: { mode: 'header', header: 'SAP-Connectivity-User' },
    },
    {
      protocol: 'HTTP',
      virtualHost: 's4-onprem-tech',
      virtualPort: 44300,
      internalHost: '127.0.0.1',
      internalPort: mockPort,
      resources: [{ path: ODATA, subPaths: true }],
    },
  ],
})
async function startAgent(): Promise<void> {
  agent = new TunnelAgent({
    server: tunnelUrl,
    token: token('agent'),
    config: agentConfig(mock.port),
    httpHooks: [createPrincipalHook()],
  })
  await agent.start()
  // The ANNOUNCE of the agent's mappings may trail its 'connected'; wait for it.
  await announced(server, 'dc1')
}

// Registered before cds.test(), so it runs before the app boots.
beforeAll(async () => {
  mock = await startS4Mock()
  server = new TunnelServer({ host: '127.0.0.1', port: 0, auth: { secret } })
  await server.listen()
  tunnelUrl = `ws://127.0.0.1:${(server.address() as { port: number }).port}`
  await startAgent()
  // The app reaches the tunnel through env (the plugin runs from dist/, a separate module instance).
  process.env.CAP_CONNECTIVITY_TUNNEL_URL = tunnelUrl
  process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN = token('sales-app')
  process.env.CAP_CONNECTIVITY_DEV_SECRET = secret
}, 60_000)

// Extra remote services on the same external model, connected in the tests (cds.connect.to with options).
const model = path.join(APP, 'srv/external/API_SALES_ORDER_SRV')
const extra = (credentials: object, more: object = {}) => ({
  kind: 'odata-v2',
  model,
  service: 'API_SALES_ORDER_SRV',
  credentials,
  ...more,
})
function options(name: string): object {
  const direct = { url: mock.url, path: ODATA, username: 'S4_TECH', password: 'mock-password' }
  switch (name) {
    case 'S4_URL':
      return extra(direct)
    case 'S4_STOCK':
      return extra(direct, { connectivity: false })
    case 'S4_TECH':
      return extra({ destination: 'S4_TECH', path: ODATA })
    case 'S4_OTHER_PATH':
      return extra({ destination: 'S4_TECH', path: '/odata/v4/API_SALES_ORDER_SRV' }, { kind: 'odata' })
    case 'S4_BADPW':
      return extra({ ...direct, password: SENTINEL })
    default:
      return extra({
        url: 'http://127.0.0.1:9',
        path: ODATA,
        username: 'S4_TECH',
        password: SENTINEL,
        requestTimeout: 5000,
      })
  }
}
const connect = (name: string) => cds.connect.to(name, options(name))

const test = cds.test(APP)
const alice = { auth: { username: 'alice', password: '' } }
const { SELECT } = cds.ql

async function get(url: string, opts: object = alice) {
  return test.axios.get(url, { ...opts, validateStatus: () => true })
}

afterAll(async () => {
  await agent?.stop()
  await server?.close()
  await mock?.stop()
})

describe('SalesService through the tunnel', () => {
  it('reads SalesOrders with $top, $filter and $orderby', async () => {
    const res = await get(
      "/odata/v4/sales/SalesOrders?$top=4&$filter=TransactionCurrency eq 'USD'&$orderby=TotalNetAmount desc",
    )
    expect(res.status).toBe(200)
    const rows = res.data.value as { TransactionCurrency: string; TotalNetAmount: string }[]
    expect(rows).toHaveLength(4)
    expect(rows.every((r) => r.TransactionCurrency === 'USD')).toBe(true)
    const amounts = rows.map((r) => Number(r.TotalNetAmount))
    expect([...amounts].sort((a, b) => b - a)).toEqual(amounts)
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining([
        'SalesOrder',
        'SalesOrderType',
        'SoldToParty',
        'CreationDate',
        'TotalNetAmount',
      ]),
    )
    expect((rows[0] as unknown as { CreationDate: string }).CreationDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  })

  it('getTopOrders() defaults to the top 10 AED orders', async () => {
    const res = await get('/odata/v4/sales/getTopOrders()')
    expect(res.status).toBe(200)
    const rows = res.data.value as { TransactionCurrency: string; TotalNetAmount: string }[]
    expect(rows).toHaveLength(10)
    expect(rows.every((r) => r.TransactionCurrency === 'AED')).toBe(true)
    const amounts = rows.map((r) => Number(r.TotalNetAmount))
    expect([...amounts].sort((a, b) => b - a)).toEqual(amounts)
  })

  it("getTopOrders(top=3,currency='EUR') returns the 3 largest EUR orders", async () => {
    const res = await get("/odata/v4/sales/getTopOrders(top=3,currency='EUR')")
    expect(res.status).toBe(200)
    const rows = res.data.value as { TransactionCurrency: string; TotalNetAmount: string }[]
    expect(rows.map((r) => r.TransactionCurrency)).toEqual(['EUR', 'EUR', 'EUR'])
    // Compare with the full EUR list read directly from the mock.
    const all = await connect('S4_URL')
    const eur = (await all.run(
      SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').where({ TransactionCurrency: 'EUR' }),
    )) as {
      TotalNetAmount: string
    }[]
    const top3 = eur
      .map((r) => Number(r.TotalNetAmount))
      .sort((a, b) => b - a)
      .slice(0, 3)
    expect(rows.map((r) => Number(r.TotalNetAmount))).toEqual(top3)
  })

  it('getTopOrders applies each default on its own and validates its input', async () => {
    const onlyTop = await get('/odata/v4/sales/getTopOrders(top=2)')
    expect(onlyTop.status).toBe(200)
    expect(onlyTop.data.value.map((r: { TransactionCurrency: string }) => r.TransactionCurrency)).toEqual([
      'AED',
      'AED',
    ])
    const onlyCurrency = await get("/odata/v4/sales/getTopOrders(currency='USD')")
    expect(onlyCurrency.data.value).toHaveLength(10)
    expect((await get('/odata/v4/sales/getTopOrders(top=0)')).status).toBe(400)
    expect((await get("/odata/v4/sales/getTopOrders(currency='a''b')")).status).toBe(400)
  })

  it('the S/4 mock sees the propagated user, not a technical user', async () => {
    await get("/odata/v4/sales/getTopOrders(top=1,currency='AED')", {
      auth: { username: 'bob', password: '' },
    })
    const reqs = await mock.requests()
    const last = reqs.filter((r) => r.url.includes('A_SalesOrder')).at(-1)
    expect(last).toMatchObject({ user: 'bob', via: 'propagated' })
    expect(reqs.some((r) => r.user === 'alice' && r.via === 'propagated')).toBe(true)
  })

  it('rejects users without the SalesViewer role before any remote call', async () => {
    const res = await get('/odata/v4/sales/SalesOrders?$top=1', { auth: { username: 'fred', password: '' } })
    expect(res.status).toBe(403)
  })

  it('reports the connectivity status (route, location, requests served)', async () => {
    const res = await get('/connectivity/status')
    expect(res.status).toBe(200)
    expect(res.data.destination).toMatchObject({
      name: 'S4',
      reachable: true,
      route: 'tunnel',
      location: 'dc1',
    })
    expect(res.data.requestsServed).toBeGreaterThan(0)
    expect(JSON.stringify(res.data)).not.toContain(secret)
  })
})

describe('other remote services', () => {
  const q = () =>
    SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
      .where({ TransactionCurrency: 'AED' })
      .orderBy('TotalNetAmount desc')
      .limit(5)

  it('a credentials.url service goes through the plugin and matches stock CAP', async () => {
    const ours = await connect('S4_URL')
    const stock = await connect('S4_STOCK')
    const { connectivityStatus } = require('cap-connectivity/cap')
    const before =
      connectivityStatus().services.find((s: { name: string }) => s.name === 'S4_URL')?.requests ?? 0
    const a = await ours.run(q())
    const b = await stock.run(q())
    expect(a).toHaveLength(5)
    expect(a).toEqual(b)
    const after = connectivityStatus()
    expect(after.services.find((s: { name: string }) => s.name === 'S4_URL').requests).toBe(before + 1)
    // The opted-out service never reaches the plugin's transport.
    expect(after.services.find((s: { name: string }) => s.name === 'S4_STOCK')).toBeUndefined()
  })

  it('a basic-auth OnPremise destination reaches the mock as its technical user', async () => {
    const tech = await connect('S4_TECH')
    expect(await tech.run(q())).toHaveLength(5)
    const last = (await mock.requests()).at(-1)
    expect(last).toMatchObject({ user: 'S4_TECH', via: 'basic' })
  })

  it('a GET longer than max_get_url_length goes as $batch through the tunnel', async () => {
    const tech = await connect('S4_TECH')
    const keys = Array.from({ length: 120 }, (_, i) => String(1000001 + i))
    const rows = (await tech.run(
      SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
        .columns('SalesOrder')
        .where({ SalesOrder: { in: keys } }),
    )) as { SalesOrder: string }[]
    expect(rows.length).toBeGreaterThanOrEqual(50)
    expect(rows.every((r) => keys.includes(r.SalesOrder))).toBe(true)
    expect((await mock.requests()).at(-1)).toMatchObject({
      method: 'POST',
      url: `${ODATA}/$batch`,
      user: 'S4_TECH',
    })
  })

  it('the agent allows only the OData path: other paths of the same system are refused', async () => {
    const other = await connect('S4_OTHER_PATH')
    const err = (await other
      .run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').limit(1))
      .catch((e: unknown) => e)) as Error & {
      status?: number
    }
    expect(err.status).toBe(502)
    expect(err.message).toMatch(/403|ACCESS_DENIED|denied/i)
  })

  it('a wrong password gives 502 without the password in message or reason', async () => {
    const srv = await connect('S4_BADPW')
    const err = await srv.run(q()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ status: 502 })
    expect((err as Error).message).toMatch(/answered 401/)
    const dump = JSON.stringify({ m: (err as Error).message, r: (err as { reason?: unknown }).reason })
    expect(dump).not.toContain(SENTINEL)
    expect(dump).not.toContain(Buffer.from(`S4_TECH:${SENTINEL}`).toString('base64'))
  })

  it('an unreachable system gives 503 without the password', async () => {
    const srv = await connect('S4_DOWN')
    const err = (await srv.run(q()).catch((e: unknown) => e)) as Error & { status?: number }
    expect(err.status).toBe(503)
    expect(err.message).toContain('S4_DOWN')
    expect(JSON.stringify({ m: err.message, r: (err as { reason?: unknown }).reason })).not.toContain(
      SENTINEL,
    )
  })
})

describe('agent outage', () => {
  it('answers 503 with a clear message while no agent is connected, and recovers', async () => {
    await agent.stop()
    const res = await get('/odata/v4/sales/SalesOrders?$top=1')
    expect(res.status).toBe(503)
    expect(res.data.error.message).toMatch(/agent/i)
    expect(res.data.error.message).toContain('S4')
    const down = (await get('/connectivity/status')).data
    expect(down.destination).toMatchObject({ name: 'S4', reachable: false, route: 'tunnel' })
    expect(down.destination.errorCode).toMatch(/NO_AGENT/)
    expect(down.lastError).toMatch(/agent/i)
    expect(down.failures).toBeGreaterThan(0)

    await startAgent()
    const ok = await get('/odata/v4/sales/SalesOrders?$top=1')
    expect(ok.status).toBe(200)
    const up = (await get('/connectivity/status')).data
    expect(up.destination.reachable).toBe(true)
    expect(
      up.services.find((x: { name: string }) => x.name === 'API_SALES_ORDER_SRV').lastError,
    ).toBeUndefined()
  })
})
