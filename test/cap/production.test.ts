/**
 * The sample app's `[production]` profile with BTP's services faked on loopback: destination `S4`
 * comes from the Destination service (bound in VCAP_SERVICES), the request goes through the
 * Connectivity service's HTTP proxy (connectivity binding) with the user's JWT for principal
 * propagation and the location id, and no development token is minted.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeConnectivityProxy, startConnectivityProxy } from '../fixtures/connectivity-proxy'
import {
  type FakeDestinationService,
  destinationVcap,
  startDestinationService,
} from '../fixtures/destination-service'
import { userJwt } from '../fixtures/jwt'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'
import { saveEnv } from '../fixtures/env'

// What `cds build --production` deploys (sample-app/gen/srv): package.json and srv/, but not the
// development destinations.json. Inside sample-app/gen (git-ignored) so node_modules resolve.
const SAMPLE = path.resolve(__dirname, '..', '..', 'sample-app')
const APP = path.join(SAMPLE, 'gen', `prodtest-${process.pid}`)
mkdirSync(APP, { recursive: true })
cpSync(path.join(SAMPLE, 'package.json'), path.join(APP, 'package.json'))
cpSync(path.join(SAMPLE, 'srv'), path.join(APP, 'srv'), { recursive: true })
// Before @sap/cds loads its configuration: the app's folder and the production profile.
process.chdir(APP)
process.env.NODE_ENV = 'production'
process.env.CAP_CONNECTIVITY_DEV_SECRET = 'a-dev-secret-that-must-stay-unused'
delete process.env.CAP_CONNECTIVITY_TUNNEL_URL
const cds = require('@sap/cds')
const { SELECT } = cds.ql

const CLIENT_ID = 'sb-sales-app'
const CLIENT_SECRET = 'SENTINEL-CLIENT-SECRET-91b2'
const PROVIDER = { zid: 'prov-zid', subdomain: 'provider' }
let xsuaa: FakeXsuaa
let destinations: FakeDestinationService
let proxy: FakeConnectivityProxy
let backend: FakeTarget
let restoreDns: () => Promise<void>
const vcapEnv = saveEnv('VCAP_SERVICES')

beforeAll(async () => {
  restoreDns = installLoopbackDns()
  xsuaa = await startXsuaa({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    provider: PROVIDER,
    subscribers: [],
  })
  destinations = await startDestinationService({
    xsuaa,
    clientId: CLIENT_ID,
    tenants: {
      [PROVIDER.zid]: {
        subaccount: [
          {
            config: {
              Name: 'S4',
              Type: 'HTTP',
              URL: 'http://s4-onprem:44300',
              ProxyType: 'OnPremise',
              Authentication: 'PrincipalPropagation',
              CloudConnectorLocationId: 'dc1',
            },
          },
        ],
      },
    },
  })
  backend = await startTarget()
  proxy = await startConnectivityProxy({
    acceptToken: (t) => xsuaa.issued.has(t),
    mappings: { dc1: { 's4-onprem:44300': backend.port } },
  })
  const vcap = JSON.parse(destinationVcap(xsuaa, destinations, CLIENT_ID, CLIENT_SECRET, PROVIDER.zid))
  vcap.connectivity = [
    {
      label: 'connectivity',
      name: 'sales-connectivity',
      tags: ['connectivity'],
      credentials: {
        onpremise_proxy_host: '127.0.0.1',
        onpremise_proxy_http_port: String(proxy.httpPort),
        onpremise_proxy_port: String(proxy.httpPort),
        onpremise_socks5_proxy_port: String(proxy.socksPort),
        clientid: CLIENT_ID,
        clientsecret: CLIENT_SECRET,
        token_service_url: xsuaa.url,
        tenantid: PROVIDER.zid,
      },
    },
  ]
  process.env.VCAP_SERVICES = JSON.stringify(vcap)
  cds.root = APP
  await cds.plugins
}, 60_000)

afterAll(async () => {
  vcapEnv.restore()
  await Promise.all([proxy?.close(), backend?.close(), destinations?.close(), xsuaa?.close()])
  await restoreDns?.()
  process.chdir(SAMPLE)
  rmSync(APP, { recursive: true, force: true })
  // Leave no empty gen/ behind (cds build creates it for real deployments).
  if (readdirSync(path.dirname(APP)).length === 0) rmSync(path.dirname(APP), { recursive: true })
})

describe('[production] profile', () => {
  it('runs with xsuaa auth and the plugin, without development tokens', () => {
    expect(cds.env.profiles).toContain('production')
    expect(cds.env.requires.auth.kind).toBe('xsuaa')
    expect(cds.env.requires.API_SALES_ORDER_SRV.impl).toBe('cap-connectivity/cap')
    expect(cds.env.requires.connectivity.devToken).toBeUndefined()
  })

  it('reads S4 from the Destination service and goes through the connectivity proxy with the user', async () => {
    const s4 = await cds.connect.to('API_SALES_ORDER_SRV')
    const jwt = userJwt('alice', PROVIDER.zid, PROVIDER.subdomain)
    const user = new cds.User({ id: 'alice', authInfo: { token: { jwt } } })
    await cds.tx({ user, tenant: PROVIDER.zid }, () =>
      s4.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').where({ TransactionCurrency: 'AED' }).limit(3)),
    )
    // Destination service: looked up for the user's tenant.
    expect(destinations.calls.map((c) => [c.name, c.tenant])).toContainEqual(['S4', PROVIDER.zid])
    // Connectivity proxy: absolute URI to the virtual host, location id, proxy token, the user's JWT.
    const rec = proxy.records.at(-1)
    expect(rec?.kind).toBe('http')
    expect(rec?.target).toMatch(
      /^http:\/\/s4-onprem:44300\/sap\/opu\/odata\/sap\/API_SALES_ORDER_SRV\/A_SalesOrder\?/,
    )
    expect(rec?.locationId).toBe('dc1')
    expect(xsuaa.issued.has(rec?.proxyToken ?? '')).toBe(true)
    expect(rec?.principal).toBe(jwt)
    // The backend behind the "Cloud Connector" got the request.
    expect(backend.records.at(-1)?.url).toMatch(
      /^\/sap\/opu\/odata\/sap\/API_SALES_ORDER_SRV\/A_SalesOrder\?/,
    )
  })

  it('refuses a user-dependent destination without a user JWT (no development token in production)', async () => {
    const s4 = await cds.connect.to('API_SALES_ORDER_SRV')
    const before = proxy.records.length
    const err = await cds
      .tx({ user: new cds.User('alice'), tenant: PROVIDER.zid }, () =>
        s4.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')),
      )
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 502 })
    expect(proxy.records.length).toBe(before)
    expect(JSON.stringify({ m: (err as Error).message })).not.toContain(CLIENT_SECRET)
  })
})
