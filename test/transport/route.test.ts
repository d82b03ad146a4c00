import { connect } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { hasErrorCode } from '../../lib/errors'
import { request } from '../../lib/http/request'
import type { ConnectContext, Connector, ConnectTarget } from '../../lib/transport/connector'
import { envProxyFor } from '../../lib/transport/env-proxy'
import { getRoute, registerTunnelProvider } from '../../lib/transport/route'
import { userJwt } from '../fixtures/jwt'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { httpDest, resetClient } from '../http/helpers'
import { saveEnv } from '../fixtures/env'
import { bindConnectivity } from '../fixtures/connectivity-binding'

const vcapEnv = saveEnv('VCAP_SERVICES')
let target: FakeTarget

beforeAll(async () => {
  target = await startTarget()
})
afterAll(async () => {
  await target.close()
})
afterEach(async () => {
  registerTunnelProvider(undefined)
  vcapEnv.restore()
  target.records.length = 0
  await resetClient()
})

/** A stand-in tunnel: connects to the real backend and records the context of every stream. */
class RecordingTunnel implements Connector {
  readonly route = 'tunnel'
  readonly calls: { target: ConnectTarget; ctx: ConnectContext }[] = []
  connect(t: ConnectTarget, ctx: ConnectContext): Promise<Duplex> {
    this.calls.push({ target: t, ctx })
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: target.port }, () => resolve(s))
      s.once('error', reject)
    })
  }
}

function bind(): void {
  bindConnectivity(
    {
      onpremise_proxy_host: '127.0.0.1',
      onpremise_proxy_http_port: '20003',
      onpremise_socks5_proxy_port: '20004',
    },
    { name: 'c' },
  )
}

describe('getRoute', () => {
  it('TCP: Internet → direct, OnPremise → SOCKS5 of the binding, or the registered tunnel', async () => {
    const internet = parseDestination({ Name: 'DB', Type: 'TCP', Address: 'db.example:5432' })
    expect((await getRoute(internet)).kind).toBe('direct')
    const onprem = parseDestination({
      Name: 'DBOP',
      Type: 'TCP',
      Address: 'virtual-db:5432',
      ProxyType: 'OnPremise',
    })
    const missing = await getRoute(onprem).catch((e: unknown) => e)
    expect(hasErrorCode(missing, 'BINDING_NOT_FOUND')).toBe(true)
    bind()
    const socks = await getRoute(onprem)
    expect(socks.kind).toBe('socks5')
    expect(socks.connector.route).toBe('socks5')
    const tunnel = new RecordingTunnel()
    registerTunnelProvider(() => tunnel)
    expect((await getRoute(onprem)).connector).toBe(tunnel)
  })

  it('loads the tunnel module on demand when CAP_CONNECTIVITY_TUNNEL_URL/TOKEN configure a tunnel', async () => {
    process.env.CAP_CONNECTIVITY_TUNNEL_URL = 'ws://127.0.0.1:9/tunnel'
    process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN = 'dev-token'
    try {
      const onprem = parseDestination({
        Name: 'DBT',
        Type: 'TCP',
        Address: 'virtual-db:5432',
        ProxyType: 'OnPremise',
      })
      const route = await getRoute(onprem)
      expect(route.kind).toBe('tunnel')
      expect(route.connector.route).toBe('tunnel')
    } finally {
      delete process.env.CAP_CONNECTIVITY_TUNNEL_URL
      delete process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN
      const { configureTunnel, getConfiguredTunnel } = await import('../../lib/transport/tunnel.js')
      configureTunnel(undefined)
      expect(getConfiguredTunnel()).toBeUndefined()
    }
  })

  it('HTTP: http:// OnPremise → http-proxy, https:// → socks5, Internet → direct', async () => {
    bind()
    expect((await getRoute(httpDest({ Name: 'A', URL: 'http://v:1', ProxyType: 'OnPremise' }))).kind).toBe(
      'http-proxy',
    )
    expect((await getRoute(httpDest({ Name: 'B', URL: 'https://v:1', ProxyType: 'OnPremise' }))).kind).toBe(
      'socks5',
    )
    expect((await getRoute(httpDest({ Name: 'C', URL: 'https://example.org' }))).kind).toBe('direct')
  })

  it('speaks HTTP through a tunnel stream, with the principal in ctx.jwt and per-user streams', async () => {
    const tunnel = new RecordingTunnel()
    registerTunnelProvider(() => tunnel)
    const d = httpDest({
      Name: 'TUN',
      URL: 'http://virtual-s4:44300/sap',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
      CloudConnectorLocationId: 'LOC9',
    })
    const a = userJwt('alice', 'z', 'sub')
    const b = userJwt('bob', 'z', 'sub')
    for (const jwt of [a, b, a, b]) expect((await request(d, { path: '/x', jwt })).status).toBe(200)
    expect(target.records[0]?.url).toBe('/sap/x')
    expect(target.records[0]?.headers.host).toBe('virtual-s4:44300')
    expect(target.records[0]?.headers.authorization).toBeUndefined()
    expect(tunnel.calls.map((c) => c.ctx.jwt)).toEqual([a, b])
    expect(tunnel.calls[0]?.ctx.locationId).toBe('LOC9')
    expect(tunnel.calls[0]?.target).toEqual({ host: 'virtual-s4', port: 44300 })
    const aliceSockets = new Set(target.records.filter((_, i) => i % 2 === 0).map((r) => r.socketId))
    const bobSockets = new Set(target.records.filter((_, i) => i % 2 === 1).map((r) => r.socketId))
    for (const id of bobSockets) expect(aliceSockets.has(id)).toBe(false)
  })
})

describe('environment proxies', () => {
  const keys = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]))
  afterEach(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })

  it('picks http_proxy/https_proxy by scheme and honours no_proxy forms', () => {
    for (const k of keys) delete process.env[k]
    expect(envProxyFor(new URL('http://a.example'))).toBeUndefined()
    process.env.HTTP_PROXY = 'proxy.corp:3128'
    process.env.https_proxy = 'http://user:pw@sproxy.corp:8080'
    expect(envProxyFor(new URL('http://a.example'))?.host).toBe('proxy.corp:3128')
    expect(envProxyFor(new URL('https://a.example'))?.host).toBe('sproxy.corp:8080')
    process.env.no_proxy = 'internal.corp, .svc.local,10.0.0.1,api.example:8443'
    expect(envProxyFor(new URL('http://internal.corp'))).toBeUndefined()
    expect(envProxyFor(new URL('http://x.internal.corp'))).toBeUndefined()
    expect(envProxyFor(new URL('http://a.svc.local'))).toBeUndefined()
    expect(envProxyFor(new URL('http://10.0.0.1'))).toBeUndefined()
    expect(envProxyFor(new URL('https://api.example:8443'))).toBeUndefined()
    expect(envProxyFor(new URL('https://api.example'))).toBeDefined()
    expect(envProxyFor(new URL('http://notinternal.corp'))).toBeDefined()
    process.env.no_proxy = '*'
    expect(envProxyFor(new URL('http://anything'))).toBeUndefined()
  })
})
