/**
 * Plugin behaviour against recording backends: CSRF with the shared token cache, requestTimeout,
 * forwarding of the user's JWT (xssec authInfo, incoming Authorization header, development token),
 * the tenant from cds.context, and the kinds odata (V4) and rest next to stock CAP.
 */
import { createHmac } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { userJwt } from '../fixtures/jwt'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { listenLoopback } from '../fixtures/net'

const { startS4Mock } = require('../../sample-app/s4-mock/launch.js')
const cds = require('@sap/cds')
const { SELECT, INSERT } = cds.ql
// The built package, as CAP loads it (one module instance with the plugin).
const { registerDestination, registerDestinationGroup, closeFailover } = require('cap-connectivity')

const APP = path.resolve(__dirname, '..', '..', 'sample-app')
const model = path.join(APP, 'srv', 'external', 'API_SALES_ORDER_SRV')
const DEV_SECRET = 'dev-secret-for-plugin-tests-0123456789'
let target: FakeTarget
let mock: { url: string; stop(): Promise<void> }

const opts = (credentials: object, more: object = {}) => ({
  kind: 'odata-v2',
  model,
  service: 'API_SALES_ORDER_SRV',
  credentials,
  ...more,
})
const order = {
  SalesOrder: '9000001',
  TransactionCurrency: 'AED',
  TotalNetAmount: 1.5,
  CreationDate: '2024-05-01',
}

beforeAll(async () => {
  process.env.CAP_CONNECTIVITY_DEV_SECRET = DEV_SECRET
  cds.root = APP
  await cds.plugins
  target = await startTarget()
  mock = await startS4Mock()
}, 60_000)

afterAll(async () => {
  await closeFailover()
  await target?.close()
  await mock?.stop()
})

describe('CSRF', () => {
  it('fetches a token once for csrf: true and reuses it', async () => {
    const srv = await cds.connect.to('CSRF_ON', opts({ url: target.url, path: '/csrf' }, { csrf: true }))
    const fetchesBefore = target.csrfFetches
    await srv.run(INSERT.into('API_SALES_ORDER_SRV.A_SalesOrder').entries(order))
    await srv.run(
      INSERT.into('API_SALES_ORDER_SRV.A_SalesOrder').entries({ ...order, SalesOrder: '9000002' }),
    )
    expect(target.csrfFetches - fetchesBefore).toBe(1)
    const posts = target.records.filter((r) => r.method === 'POST' && r.url.startsWith('/csrf/A_SalesOrder'))
    expect(posts).toHaveLength(2)
    for (const p of posts) expect(p.headers['x-csrf-token']).toMatch(/^[0-9a-f-]{36}$/)
    // CAP's V2 payload conversion is kept.
    expect(JSON.parse(posts[0]!.body)).toMatchObject({
      SalesOrder: '9000001',
      TotalNetAmount: '1.5',
      CreationDate: '/Date(1714521600000)/',
    })
  })

  it('sends no CSRF fetch without csrf, as CAP does (the backend refuses: 502)', async () => {
    const srv = await cds.connect.to('CSRF_OFF', opts({ url: target.url, path: '/csrf' }))
    const fetchesBefore = target.csrfFetches
    const err = await srv
      .run(INSERT.into('API_SALES_ORDER_SRV.A_SalesOrder').entries(order))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 502 })
    expect((err as Error).message).toContain('answered 403')
    expect(target.csrfFetches).toBe(fetchesBefore)
  })
})

describe('requestTimeout', () => {
  it('answers 504 when the system is slower than credentials.requestTimeout', async () => {
    const srv = await cds.connect.to('SLOW', opts({ url: target.url, path: '/slow', requestTimeout: 300 }))
    const started = Date.now()
    const err = (await srv
      .run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder'))
      .catch((e: unknown) => e)) as Error & {
      status?: number
    }
    expect(err.status).toBe(504)
    expect(err.message).toContain('SLOW')
    expect(err.message).toContain('requestTimeout')
    expect(Date.now() - started).toBeLessThan(3000)
  })
})

describe('user JWT and tenant', () => {
  const lastAuth = () => target.records.at(-1)?.headers.authorization
  // One service with forwardAuthToken, shared by the cases below.
  let fwd: { run(q: unknown): Promise<unknown> }

  it('forwards the xssec token (cds.context.user.authInfo.token.jwt) with forwardAuthToken', async () => {
    fwd = await cds.connect.to('FWD', opts({ url: target.url, path: '/echo', forwardAuthToken: true }))
    const srv = fwd
    const jwt = userJwt('carol', 'tenant-a', 'sub-a')
    const user = new cds.User({ id: 'carol', authInfo: { token: { jwt } } })
    await cds.tx({ user, tenant: 'tenant-a' }, () => srv.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')))
    expect(lastAuth()).toBe(`Bearer ${jwt}`)
  })

  it('falls back to the incoming Authorization header', async () => {
    const srv = fwd
    const jwt = userJwt('dave', 'tenant-a', 'sub-a')
    const ctx = { user: new cds.User('dave'), http: { req: { headers: { authorization: `Bearer ${jwt}` } } } }
    await cds.tx(ctx, () => srv.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')))
    expect(lastAuth()).toBe(`Bearer ${jwt}`)
  })

  it('mints a development JWT for a mocked user (development profile only)', async () => {
    const srv = fwd
    await cds.tx({ user: new cds.User('alice'), tenant: 't1' }, () =>
      srv.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')),
    )
    const token = String(lastAuth()).replace(/^Bearer /, '')
    const [h, p, sig] = token.split('.')
    expect(createHmac('sha256', DEV_SECRET).update(`${h}.${p}`).digest('base64url')).toBe(sig)
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    expect(claims).toMatchObject({ user_name: 'alice', zid: 't1' })
    expect(claims.exp * 1000).toBeGreaterThan(Date.now())
  })

  it('never mints development tokens in the production profile', () => {
    const script = `const cds = require('@sap/cds'); cds.root = ${JSON.stringify(APP)};
      process.env.CAP_CONNECTIVITY_DEV_SECRET = 'x'.repeat(32)
      const { pluginSettings } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'cap', 'settings.js'))})
      console.log(JSON.stringify({ profiles: cds.env.profiles, settings: pluginSettings(),
        impl: cds.env.requires.API_SALES_ORDER_SRV.impl, auth: cds.env.requires.auth.kind }))`
    const run = (env: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['-e', script], {
          cwd: APP,
          encoding: 'utf8',
          env: { ...process.env, NODE_ENV: env },
        }),
      )
    const prod = run('production')
    expect(prod.profiles).toContain('production')
    expect(prod.settings.devToken).toBeUndefined()
    expect(prod.impl).toBe('cap-connectivity/cap')
    expect(prod.auth).toBe('xsuaa')
    const dev = run('development')
    expect(dev.settings.devToken).toBeDefined()
    expect(dev.auth).toBe('mocked')
  })

  it('looks destinations up for the tenant of cds.context', async () => {
    registerDestination(
      {
        Name: 'T1_ONLY',
        Type: 'HTTP',
        URL: target.url,
        ProxyType: 'Internet',
        Authentication: 'NoAuthentication',
      },
      { tenant: 't1' },
    )
    const srv = await cds.connect.to('T1', opts({ destination: 'T1_ONLY', path: '/echo' }))
    const q = () => SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
    await cds.tx({ user: new cds.User('alice'), tenant: 't1' }, () => srv.run(q()))
    const err = await cds
      .tx({ user: new cds.User('erin'), tenant: 't2' }, () => srv.run(q()))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 502, code: 'DESTINATION_NOT_FOUND' })
    expect((err as Error).message).toContain('T1_ONLY')
  })
})

describe('kinds odata (V4) and rest', () => {
  const q = () =>
    SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
      .where({ TransactionCurrency: 'EUR' })
      .orderBy('TotalNetAmount desc')
      .limit(3)

  it('odata V4 through the plugin equals stock CAP', async () => {
    const creds = { url: mock.url, path: '/odata/v4/API_SALES_ORDER_SRV' }
    const ours = await cds.connect.to('V4_OURS', opts(creds, { kind: 'odata' }))
    const stock = await cds.connect.to('V4_STOCK', opts(creds, { kind: 'odata', connectivity: false }))
    expect(ours.constructor.name).toBe('ConnectivityRemoteService')
    const a = await ours.run(q())
    expect(a).toHaveLength(3)
    expect(a).toEqual(await stock.run(q()))
    const one = await ours.run(
      SELECT.one.from('API_SALES_ORDER_SRV.A_SalesOrder', '1000003').columns('SalesOrder'),
    )
    expect(one).toEqual({ SalesOrder: '1000003' })
  })

  it('rest through the plugin builds REST paths (key as path segment)', async () => {
    const srv = await cds.connect.to('REST', opts({ url: target.url, path: '/rest' }, { kind: 'rest' }))
    await srv.run(SELECT.one.from('API_SALES_ORDER_SRV.A_SalesOrder', '1000036'))
    expect(target.records.at(-1)?.url).toMatch(/^\/rest\/A_SalesOrder\/1000036/)
  })
})

describe('operations', () => {
  it("unbound functions and actions go through CAP's URL building and our transport", async () => {
    const csn = cds.linked(
      cds.compile.for.nodejs(
        cds.compile(`service OPS { entity Orders { key ID : String; }
          function ping(text : String) returns String;
          action release(order : String) returns String; }`),
      ),
    )
    const srv = await cds.connect.to('OPS', {
      kind: 'odata-v2',
      model: csn,
      credentials: { url: target.url, path: '/ops' },
    })
    await srv.send('ping', { text: 'hi' })
    const last = () => ({
      method: target.records.at(-1)?.method,
      url: decodeURIComponent(target.records.at(-1)?.url ?? ''),
    })
    expect(last()).toEqual({ method: 'GET', url: "/ops/ping?text='hi'" })
    await srv.send('release', { order: '1000001' })
    expect(last()).toEqual({ method: 'POST', url: "/ops/release?order='1000001'" })
    const status = require('cap-connectivity/cap').connectivityStatus()
    expect(status.services.find((x: { name: string }) => x.name === 'OPS')?.requests).toBe(2)
  })
})

describe('failover groups', () => {
  it('a destination group name in credentials.destination fails over to the next member', async () => {
    const dest = (Name: string, URL: string) => ({
      Name,
      Type: 'HTTP',
      URL,
      ProxyType: 'Internet',
      Authentication: 'NoAuthentication',
    })
    registerDestination(dest('ERP_DOWN', 'http://127.0.0.1:9'))
    registerDestination(dest('ERP_UP', target.url))
    registerDestinationGroup({
      name: 'ERP',
      routing: 'priority',
      members: [
        { destination: 'ERP_DOWN', priority: 1 },
        { destination: 'ERP_UP', priority: 2 },
      ],
    })
    const srv = await cds.connect.to('ERP_SRV', opts({ destination: 'ERP', path: '/group' }))
    await srv.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').limit(1))
    expect(target.records.at(-1)?.url).toMatch(/^\/group\/A_SalesOrder\?/)
  })
})

describe('binary answers', () => {
  it('returns bytes for binary content and a stream when the caller accepts a stream', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13])
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length })
      res.end(bytes)
    })
    await listenLoopback(server)
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
      const srv = await cds.connect.to('BIN', opts({ url }, { kind: 'rest' }))
      const buf = await srv.send({ method: 'GET', path: '/file' })
      expect(Buffer.isBuffer(buf)).toBe(true)
      expect(Buffer.compare(buf as Buffer, bytes)).toBe(0)
      const stream = (await srv.send({
        method: 'GET',
        path: '/file',
        headers: { accept: 'application/octet-stream' },
      })) as AsyncIterable<Buffer>
      const chunks: Buffer[] = []
      for await (const c of stream) chunks.push(c)
      expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
