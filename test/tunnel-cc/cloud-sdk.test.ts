/**
 * An unchanged SAP Cloud SDK app (executeHttpRequest, OnPremise destination from the Destination
 * service, PrincipalPropagation) with its `connectivity` binding pointing at our local proxy reaches
 * a backend behind our agent, and the backend sees the configured user identity.
 */
import { executeHttpRequest } from '@sap-cloud-sdk/http-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TunnelAgent, TunnelServer } from '../../lib/tunnel/index'
import { createPrincipalHook } from '../../lib/tunnel/principal'
import { type LocalProxy, startLocalProxy } from '../../lib/tunnel/proxy'
import { type SeenRequest, startEchoHttp } from './fixtures/backends'
import { startDestinationService } from './fixtures/destination-service'
import { DEV_SECRET, hsToken, type RsIssuer, startRsIssuer } from './fixtures/tokens'
import { saveEnv } from '../fixtures/env'

let xsuaa: RsIssuer
let ds: Awaited<ReturnType<typeof startDestinationService>>
let backend: Awaited<ReturnType<typeof startEchoHttp>>
let server: TunnelServer
let proxy: LocalProxy
let agent: TunnelAgent
const vcapEnv = saveEnv('VCAP_SERVICES')

beforeAll(async () => {
  // XSUAA of the subaccount: issues the SDK's client-credentials tokens (zone acme-zone) and signs the agent's token.
  xsuaa = await startRsIssuer({
    clients: { 'sb-dest': 'dest-secret', 'sb-conn': 'conn-secret' },
    zid: 'acme-zone',
  })
  ds = await startDestinationService([
    {
      Name: 'S4',
      Type: 'HTTP',
      URL: 'http://s4.virtual:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
      CloudConnectorLocationId: 'orlando',
    },
  ])
  backend = await startEchoHttp()
  server = new TunnelServer({
    port: 0,
    host: '127.0.0.1',
    auth: { jwksUrl: xsuaa.jwksUri, issuer: xsuaa.issuer },
  })
  const { port } = await server.listen()
  proxy = await startLocalProxy(server, { httpPort: 0 })
  agent = new TunnelAgent({
    server: `ws://127.0.0.1:${port}/`,
    token: await xsuaa.sign({ sub: 'cloud-connector-1', zid: 'acme-zone' }),
    config: {
      locationId: 'orlando',
      trust: { secret: DEV_SECRET },
      mappings: [
        {
          protocol: 'HTTP',
          virtualHost: 's4.virtual',
          virtualPort: 44300,
          internalHost: '127.0.0.1',
          internalPort: backend.port,
          internalProtocol: 'http',
          resources: [{ path: '/sap/opu/odata/sap/', subPaths: true }],
          principalPropagation: { mode: 'header', header: 'X-Remote-User' },
        },
      ],
    },
    httpHooks: [createPrincipalHook()],
  })
  await agent.start()
  process.env.VCAP_SERVICES = JSON.stringify({
    destination: [
      {
        label: 'destination',
        name: 'dest',
        tags: ['destination'],
        credentials: {
          clientid: 'sb-dest',
          clientsecret: 'dest-secret',
          url: xsuaa.url,
          uri: ds.url,
          tenantid: 'acme-zone',
        },
      },
    ],
    connectivity: [
      {
        label: 'connectivity',
        name: 'conn',
        tags: ['connectivity'],
        credentials: {
          clientid: 'sb-conn',
          clientsecret: 'conn-secret',
          url: xsuaa.url,
          token_service_url: xsuaa.url,
          onpremise_proxy_host: '127.0.0.1',
          onpremise_proxy_http_port: String(proxy.httpPort),
          onpremise_proxy_port: String(proxy.httpPort),
          onpremise_socks5_proxy_port: '20004',
        },
      },
    ],
  })
})
afterAll(async () => {
  vcapEnv.restore()
  await agent?.stop()
  await proxy?.close()
  await server?.close(100)
  await backend?.close()
  await ds?.close()
  await xsuaa?.close()
})

describe('unchanged SAP Cloud SDK through our connectivity proxy', () => {
  it('executeHttpRequest with an OnPremise PrincipalPropagation destination reaches the backend as the user', async () => {
    const jwt = await hsToken({ user_name: 'alice', email: 'alice@example.com', user_id: 'u-1' })
    const res = await executeHttpRequest(
      { destinationName: 'S4', jwt },
      { method: 'get', url: '/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=2' },
    )
    expect(res.status).toBe(200)
    const seen = res.data as SeenRequest
    expect(seen.url).toBe('/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=2')
    expect(seen.headers['x-remote-user']).toBe('alice')
    // The SDK sent Proxy-Authorization + SAP-Connectivity-Authentication; neither reached the backend.
    expect(Object.keys(seen.headers).filter((h) => /^(sap-connectivity|proxy-)/.test(h))).toEqual([])
    expect(xsuaa.tokenRequests).toContain('client_credentials')
    expect(ds.requests.some((r) => r.includes('/destinations/S4'))).toBe(true)
  })

  it('the same call without a valid user is refused (propagation configured, no user)', async () => {
    const expired = await hsToken({ user_name: 'alice' }, { ttl: -300 })
    await expect(
      executeHttpRequest(
        { destinationName: 'S4', jwt: expired },
        { method: 'get', url: '/sap/opu/odata/sap/X' },
      ),
    ).rejects.toMatchObject({ response: { status: 401 } })
  })
})
