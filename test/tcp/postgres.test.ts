/**
 * A real server protocol through every TCP route: PostgreSQL (Debian's package, started by the test)
 * with the `pg` driver — its `stream` option fed by connectTcp, and host:port via openLocalPort.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { connectTcp } from '../../lib/tcp/connect'
import { openLocalPort } from '../../lib/tcp/local-port'
import { findPostgres, type PostgresServer, startPostgres } from '../fixtures/postgres'
import { type OnPremiseEnv, startOnPremiseEnv, tcpDestination } from './helpers'
import { startTunnelEnv, tcpMapping } from './tunnel-env'

const found = findPostgres()
if ('missing' in found) console.warn(`Skipping PostgreSQL route tests: ${found.missing}`)

async function exercise(client: pg.Client): Promise<void> {
  await client.connect()
  await client.query('create temp table orders (id text primary key, amount numeric)')
  await client.query(
    "insert into orders select lpad(g::text, 10, '0'), g * 1.5 from generate_series(1, 2000) g",
  )
  const { rows } = await client.query(
    'select count(*)::int as n, sum(amount)::text as total, min(id) as first from orders',
  )
  expect(rows[0]).toEqual({ n: 2000, total: '3001500.0', first: '0000000001' })
  // A large result crosses many TCP segments.
  const big = await client.query("select repeat('x', 100000) as blob from generate_series(1, 20)")
  expect(big.rows.every((r: { blob: string }) => r.blob.length === 100_000)).toBe(true)
  await client.end()
}

describe.skipIf('missing' in found)('PostgreSQL with pg through every route', () => {
  let server: PostgresServer
  let env: OnPremiseEnv
  beforeAll(async () => {
    server = await startPostgres()
    env = await startOnPremiseEnv({ LOC_DB: { 'orders-db.virtual:5432': server.port } })
  })
  afterAll(async () => {
    await env?.close()
    await server?.close()
  })

  const user = () => ({ user: server.user, database: server.database })

  it('(a) direct: pg over the stream from connectTcp', async () => {
    const stream = await connectTcp(tcpDestination('ORDERS_DB', `${server.host}:${server.port}`))
    expect(stream.route).toBe('direct')
    await exercise(new pg.Client({ ...user(), stream: () => stream }))
  })

  it('(b) OnPremise: pg through the SOCKS5 0x80 connectivity proxy with a location id', async () => {
    const dest = parseDestination({
      Name: 'ORDERS_DB_ONPREM',
      Type: 'TCP',
      Address: 'tcp://orders-db.virtual:5432',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'LOC_DB',
      'tcp.keepalive': 'true',
      'tcp.nodelay': 'true',
    })
    const stream = await connectTcp(dest)
    expect(stream.route).toBe('socks5')
    await exercise(new pg.Client({ ...user(), stream: () => stream }))
    expect(
      env.proxy.records.some(
        (r) => r.kind === 'socks5' && r.target === 'orders-db.virtual:5432' && r.locationId === 'LOC_DB',
      ),
    ).toBe(true)
  })

  it('(c) OnPremise: pg through our tunnel agent', async () => {
    const tunnel = await startTunnelEnv([tcpMapping('orders-db.virtual', 5432, server.port)], 'LOC_DB')
    try {
      const dest = parseDestination({
        Name: 'ORDERS_DB_TUNNEL',
        Type: 'TCP',
        Address: 'orders-db.virtual:5432',
        ProxyType: 'OnPremise',
        CloudConnectorLocationId: 'LOC_DB',
      })
      const stream = await connectTcp(dest)
      expect(stream.route).toBe('tunnel')
      await exercise(new pg.Client({ ...user(), stream: () => stream }))
    } finally {
      await tunnel.close()
    }
  })

  it('openLocalPort: a pg.Pool that only knows host:port, through the connectivity proxy', async () => {
    const dest = parseDestination({
      Name: 'ORDERS_DB_LOCAL',
      Type: 'TCP',
      Address: 'orders-db.virtual:5432',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'LOC_DB',
    })
    const local = await openLocalPort(dest)
    const pool = new pg.Pool({ ...user(), host: local.host, port: local.port, max: 6 })
    const counts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.query('select $1::int + count(*)::int as v from generate_series(1, 1000)', [i]),
      ),
    )
    expect(counts.map((r) => r.rows[0].v)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1000))
    await pool.end()
    await local.close()
  })
})
