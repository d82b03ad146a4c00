/**
 * Our own client side against our local proxy: `request()` with an OnPremise destination and a
 * connectivity binding (HTTP proxy, both principal-propagation forms) and `Socks5Connector`
 * (SOCKS5 0x80 with reply codes mapped to our error codes), through a real agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearTokenCache } from '../../lib/auth/token-client'
import { parseDestination } from '../../lib/destination/parse'
import { request } from '../../lib/http/request'
import { Socks5Connector } from '../../lib/transport/socks5'
import { TunnelAgent, TunnelServer } from '../../lib/tunnel/index'
import { createPrincipalHook } from '../../lib/tunnel/principal'
import { type LocalProxy, startLocalProxy } from '../../lib/tunnel/proxy'
import { closedPort } from '../fixtures/net'
import { type SeenRequest, startEchoHttp, startEchoTcp } from './fixtures/backends'
import { type RsIssuer, startRsIssuer } from './fixtures/tokens'
import { saveEnv } from '../fixtures/env'
import { bindConnectivity } from '../fixtures/connectivity-binding'

let xsuaa: RsIssuer
let backend: Awaited<ReturnType<typeof startEchoHttp>>
let tcp: Awaited<ReturnType<typeof startEchoTcp>>
let server: TunnelServer
let proxy: LocalProxy
let agent: TunnelAgent
const vcapEnv = saveEnv('VCAP_SERVICES')

beforeAll(async () => {
  xsuaa = await startRsIssuer({ clients: { 'sb-conn': 'conn-secret' }, zid: 'acme-zone' })
  backend = await startEchoHttp()
  tcp = await startEchoTcp('TCP ')
  const down = await closedPort()
  server = new TunnelServer({
    port: 0,
    host: '127.0.0.1',
    auth: { jwksUrl: xsuaa.jwksUri, issuer: xsuaa.issuer },
  })
  const { port } = await server.listen()
  proxy = await startLocalProxy(server, { httpPort: 0, socksPort: 0 })
  agent = new TunnelAgent({
    server: `ws://127.0.0.1:${port}/`,
    token: await xsuaa.sign({ sub: 'cc-1', zid: 'acme-zone' }),
    config: {
      locationId: 'orlando',
      trust: { jwksUri: xsuaa.jwksUri, issuer: xsuaa.issuer },
      mappings: [
        {
          protocol: 'HTTP',
          virtualHost: 's4.virtual',
          virtualPort: 44300,
          internalHost: '127.0.0.1',
          internalPort: backend.port,
          internalProtocol: 'http',
          resources: [{ path: '/sap/', subPaths: true }],
          principalPropagation: { mode: 'header' },
        },
        {
          protocol: 'TCP',
          virtualHost: 'db.virtual',
          virtualPort: 3306,
          internalHost: '127.0.0.1',
          internalPort: tcp.port,
        },
        {
          protocol: 'TCP',
          virtualHost: 'down.virtual',
          virtualPort: 3306,
          internalHost: '127.0.0.1',
          internalPort: down,
        },
      ],
    },
    httpHooks: [createPrincipalHook()],
  })
  await agent.start()
  const until = Date.now() + 5000
  while (!server.agents().some((a) => a.mappings.length === 3)) {
    if (Date.now() > until) throw new Error('agent did not announce')
    await new Promise((r) => setTimeout(r, 10))
  }
  bindConnectivity(
    {
      clientid: 'sb-conn',
      clientsecret: 'conn-secret',
      token_service_url: xsuaa.url,
      tenantid: 'acme-zone',
      onpremise_proxy_host: '127.0.0.1',
      onpremise_proxy_http_port: String(proxy.httpPort),
      onpremise_socks5_proxy_port: String(proxy.socksPort),
    },
    { name: 'conn', tags: ['connectivity'] },
  )
  clearTokenCache()
})
afterAll(async () => {
  vcapEnv.restore()
  clearTokenCache()
  await agent?.stop()
  await proxy?.close()
  await server?.close(100)
  await backend?.close()
  await tcp?.close()
  await xsuaa?.close()
})

const S4 = () =>
  parseDestination({
    Name: 'S4_PP',
    Type: 'HTTP',
    URL: 'http://s4.virtual:44300',
    ProxyType: 'OnPremise',
    Authentication: 'PrincipalPropagation',
    CloudConnectorLocationId: 'orlando',
  })

describe('our client library through our local connectivity proxy', () => {
  it.each(['forward', 'exchange'] as const)(
    'request() with principal propagation "%s" reaches the backend as the user',
    async (mode) => {
      const jwt = await xsuaa.sign({ user_name: 'alice', email: 'alice@example.com', zid: 'acme-zone' })
      const res = await request(S4(), {
        path: '/sap/opu/odata/sap/API/A?$top=1',
        jwt,
        principalPropagation: mode,
      })
      expect(res.status).toBe(200)
      const seen = (await res.json()) as SeenRequest
      expect(seen.headers['sap-connectivity-user']).toBe('alice')
      expect(Object.keys(seen.headers).filter((h) => /^(sap-connectivity-(?!user)|proxy-)/.test(h))).toEqual(
        [],
      )
      if (mode === 'exchange')
        expect(xsuaa.tokenRequests).toContain('urn:ietf:params:oauth:grant-type:jwt-bearer')
    },
  )

  it('a path outside the agent allowlist is ACCESS_DENIED (the refusal carries Proxy-Status), a backend 403 is not', async () => {
    const jwt = await xsuaa.sign({ user_name: 'alice', zid: 'acme-zone' })
    const denied = await request(S4(), { path: '/not-mapped/x', jwt }).catch((e: unknown) => e)
    expect(denied).toMatchObject({ code: 'ACCESS_DENIED', details: { status: 403 } })
    // The echo backend answers a path of its own with 403: that stays a response, not an error.
    const res = await request(S4(), { path: '/sap/status/403', jwt })
    expect(res.status).toBe(403)
    expect(res.headers['proxy-status']).toBeUndefined()
  })

  it('Socks5Connector (method 0x80 with the connectivity token) reaches a TCP backend; reply codes map to our error codes', async () => {
    const token = async () => {
      const r = await fetch(`${xsuaa.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=sb-conn&client_secret=conn-secret',
      })
      return ((await r.json()) as { access_token: string }).access_token
    }
    const connector = new Socks5Connector({ host: '127.0.0.1', port: proxy.socksPort ?? 0, token })
    const socket = await connector.connect({ host: 'db.virtual', port: 3306 }, { locationId: 'orlando' })
    const got: Buffer[] = []
    socket.on('data', (c: Buffer) => got.push(c))
    socket.end('ping')
    await new Promise((r) => socket.on('close', r))
    expect(Buffer.concat(got).toString()).toBe('TCP ping')
    await expect(
      connector.connect({ host: 'nothing.virtual', port: 1 }, { locationId: 'orlando' }),
    ).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
    })
    await expect(
      connector.connect({ host: 'db.virtual', port: 3306 }, { locationId: 'elsewhere' }),
    ).rejects.toMatchObject({
      code: 'NO_AGENT',
    })
    await expect(
      connector.connect({ host: 'down.virtual', port: 3306 }, { locationId: 'orlando' }),
    ).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
    })
    const bad = new Socks5Connector({ host: '127.0.0.1', port: proxy.socksPort ?? 0, token: 'not.a.jwt' })
    await expect(
      bad.connect({ host: 'db.virtual', port: 3306 }, { locationId: 'orlando' }),
    ).rejects.toMatchObject({
      code: 'PROXY_AUTH_FAILED',
    })
  })
})
