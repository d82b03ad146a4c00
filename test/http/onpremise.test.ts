import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { request } from '../../lib/http/request'
import { type FakeConnectivityProxy, startConnectivityProxy } from '../fixtures/connectivity-proxy'
import { jwtClaims, makeJwt, userJwt } from '../fixtures/jwt'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { testPki } from '../fixtures/certs'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'
import { httpDest, resetClient } from './helpers'
import { rejection } from '../fixtures/rejection'
import { saveEnv } from '../fixtures/env'
import { bindConnectivity as setConnectivityBinding } from '../fixtures/connectivity-binding'

let xsuaa: FakeXsuaa
let proxy: FakeConnectivityProxy
let backend: FakeTarget
let tlsBackend: FakeTarget
let restoreDns: () => Promise<void>
const vcapEnv = saveEnv('VCAP_SERVICES')

function bindConnectivity(extra: Record<string, unknown> = {}): void {
  setConnectivityBinding(
    {
      onpremise_proxy_host: '127.0.0.1',
      onpremise_proxy_http_port: String(proxy.httpPort),
      onpremise_proxy_port: String(proxy.httpPort),
      onpremise_socks5_proxy_port: String(proxy.socksPort),
      clientid: 'conn-client',
      clientsecret: 'conn-secret-SENTINEL',
      token_service_url: xsuaa.url,
      tenantid: 'prov-zid',
      ...extra,
    },
    { name: 'my-connectivity', tags: ['connectivity'] },
  )
}

beforeAll(async () => {
  restoreDns = installLoopbackDns()
  xsuaa = await startXsuaa({
    clientId: 'conn-client',
    clientSecret: 'conn-secret-SENTINEL',
    provider: { zid: 'prov-zid', subdomain: 'provider' },
    subscribers: [{ zid: 'sub-zid', subdomain: 'subscriber' }],
  })
  backend = await startTarget()
  const pki = testPki()
  tlsBackend = await startTarget({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } })
  proxy = await startConnectivityProxy({
    acceptToken: (t) => xsuaa.issued.has(t),
    mappings: {
      '': { 'virtual-s4:44300': backend.port, 'virtual-s4:443': tlsBackend.port },
      LOC1: { 'virtual-s4:44300': backend.port },
    },
  })
})
afterAll(async () => {
  await Promise.all([xsuaa.close(), proxy.close(), backend.close(), tlsBackend.close()])
  await restoreDns()
})
beforeEach(() => bindConnectivity())
afterEach(async () => {
  proxy.records.length = 0
  backend.records.length = 0
  xsuaa.requests.length = 0
  vcapEnv.restore()
  await resetClient()
})

const alice = () => userJwt('alice', 'prov-zid', 'provider')
const bob = () => userJwt('bob', 'prov-zid', 'provider')

describe('OnPremise over the connectivity HTTP proxy', () => {
  it('sends absolute-URI requests with Proxy-Authorization (provider token) and no location header by default', async () => {
    const d = httpDest({ Name: 'S4', URL: 'http://virtual-s4:44300/sap', ProxyType: 'OnPremise' })
    const res = await request(d, { path: '/opu/x', query: { a: 1 } })
    expect(res.status).toBe(200)
    await res.text()
    const rec = proxy.records[0]
    expect(rec?.target).toBe('http://virtual-s4:44300/sap/opu/x?a=1')
    expect(rec?.headers?.host).toBe('virtual-s4:44300')
    expect(rec?.headers?.['sap-connectivity-scc-location_id']).toBeUndefined()
    expect(jwtClaims(rec?.proxyToken ?? '').zid).toBe('prov-zid')
    expect(xsuaa.requests[0]?.grantType).toBe('client_credentials')
    expect(backend.records[0]?.url).toBe('/sap/opu/x?a=1')
  })

  it('sends the location id in plain text and reaches that location', async () => {
    const d = httpDest({
      Name: 'S4L',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'LOC1',
    })
    expect((await request(d, { path: '/x' })).status).toBe(200)
    expect(proxy.records[0]?.headers?.['sap-connectivity-scc-location_id']).toBe('LOC1')
  })

  it("uses a connectivity token in the user's (subscriber) tenant", async () => {
    const d = httpDest({ Name: 'S4', URL: 'http://virtual-s4:44300', ProxyType: 'OnPremise' })
    const jwt = userJwt('carol', 'sub-zid', 'subscriber')
    await (await request(d, { path: '/x', jwt })).text()
    expect(jwtClaims(proxy.records[0]?.proxyToken ?? '').zid).toBe('sub-zid')
    expect(xsuaa.requests[0]?.host).toContain('subscriber.localhost')
  })

  it('principal propagation form A (default): SAP-Connectivity-Authentication + service token, never Authorization', async () => {
    const d = httpDest({
      Name: 'PP',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
      'URL.headers.Authorization': 'Basic should-be-dropped',
    })
    const jwt = alice()
    const res = await request(d, { path: '/me', jwt })
    expect(res.status).toBe(200)
    await res.text()
    const rec = proxy.records[0]
    expect(rec?.principal).toBe(jwt)
    expect(rec?.headers?.authorization).toBeUndefined()
    expect(jwtClaims(rec?.proxyToken ?? '').grant_type).toBe('client_credentials')
    expect(backend.records[0]?.headers['x-propagated-user']).toBe(jwt)
  })

  it('principal propagation form B (exchange): the exchanged user token alone in Proxy-Authorization', async () => {
    const d = httpDest({
      Name: 'PPB',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    await (await request(d, { path: '/me', jwt: alice(), principalPropagation: 'exchange' })).text()
    const rec = proxy.records[0]
    expect(rec?.principal).toBeUndefined()
    expect(rec?.headers?.authorization).toBeUndefined()
    const p = jwtClaims(rec?.proxyToken ?? '')
    expect(p.user_name).toBe('alice')
    expect(p.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer')
  })

  it('falls back to form A for IAS tokens even when exchange is asked for', async () => {
    const d = httpDest({
      Name: 'PPI',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    const ias = makeJwt({
      iss: 'https://tenant.accounts.ondemand.com',
      app_tid: 'prov-zid',
      sub: 'u1',
      user_uuid: 'u1',
      exp: Math.floor(Date.now() / 1000) + 600,
    })
    await (await request(d, { path: '/me', jwt: ias, principalPropagation: 'exchange' })).text()
    expect(proxy.records[0]?.principal).toBe(ias)
  })

  it('rejects a caller Authorization header with principal propagation (REQUEST_INVALID, nothing sent)', async () => {
    const d = httpDest({
      Name: 'PP',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    const e = await rejection(
      request(d, { path: '/me', jwt: alice(), headers: { Authorization: 'Basic eA==' } }),
    )
    expect(hasErrorCode(e, 'REQUEST_INVALID')).toBe(true)
    expect(proxy.records).toHaveLength(0)
    expect(xsuaa.requests).toHaveLength(0)
  })

  it('needs a user JWT for principal propagation and rejects expired or malformed ones before any call', async () => {
    const d = httpDest({
      Name: 'PP',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    expect(hasErrorCode(await rejection(request(d, { path: '/me' })), 'TOKEN_MISSING')).toBe(true)
    const expired = userJwt('alice', 'prov-zid', 'provider', { exp: Math.floor(Date.now() / 1000) - 10 })
    expect(hasErrorCode(await rejection(request(d, { path: '/me', jwt: expired })), 'TOKEN_INVALID')).toBe(
      true,
    )
    expect(
      hasErrorCode(await rejection(request(d, { path: '/me', jwt: 'not.a.jwt' })), 'TOKEN_INVALID'),
    ).toBe(true)
    expect(proxy.records).toHaveLength(0)
    expect(xsuaa.requests).toHaveLength(0)
  })

  it("never reuses a socket that carried one user's principal for another user", async () => {
    const d = httpDest({
      Name: 'PP',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    const a = alice()
    const b = bob()
    for (let i = 0; i < 4; i++) {
      await (await request(d, { path: '/a', jwt: a })).text()
      await (await request(d, { path: '/b', jwt: b })).text()
    }
    await Promise.all([1, 2, 3].map(async () => (await request(d, { path: '/a', jwt: a })).text()))
    await Promise.all([1, 2, 3].map(async () => (await request(d, { path: '/b', jwt: b })).text()))
    const aliceSockets = new Set(proxy.records.filter((r) => r.principal === a).map((r) => r.socketId))
    const bobSockets = new Set(proxy.records.filter((r) => r.principal === b).map((r) => r.socketId))
    expect(aliceSockets.size).toBeGreaterThan(0)
    expect(bobSockets.size).toBeGreaterThan(0)
    for (const id of bobSockets) expect(aliceSockets.has(id)).toBe(false)
    // Keep-alive still works per user.
    expect(proxy.records.filter((r) => r.principal === a).length).toBeGreaterThan(aliceSockets.size)
  })

  it('trusted mode (Kyma env keys, no client credentials): no Proxy-Authorization', async () => {
    delete process.env.VCAP_SERVICES
    process.env.onpremise_proxy_host = '127.0.0.1'
    process.env.onpremise_proxy_http_port = String(proxy.httpPort)
    proxy.trusted = true
    try {
      const d = httpDest({ Name: 'K', URL: 'http://virtual-s4:44300', ProxyType: 'OnPremise' })
      expect((await request(d, { path: '/x' })).status).toBe(200)
      expect(proxy.records[0]?.headers?.['proxy-authorization']).toBeUndefined()
      expect(xsuaa.requests).toHaveLength(0)
    } finally {
      proxy.trusted = false
      delete process.env.onpremise_proxy_host
      delete process.env.onpremise_proxy_http_port
    }
  })

  it('maps 407 → PROXY_AUTH_FAILED, 503 → NO_AGENT, marked 403 → ACCESS_DENIED (requestSent false), keeping secrets out', async () => {
    const accept = proxy.acceptToken
    proxy.acceptToken = () => false
    const d = httpDest({ Name: 'S4', URL: 'http://virtual-s4:44300', ProxyType: 'OnPremise' })
    const e407 = await rejection(request(d, { path: '/x' }))
    proxy.acceptToken = accept
    expect(hasErrorCode(e407, 'PROXY_AUTH_FAILED')).toBe(true)
    expect(e407.details?.requestSent).toBe(false)
    expect(JSON.stringify({ m: e407.message, d: e407.details })).not.toContain('SENTINEL')

    const noLoc = httpDest({
      Name: 'S4X',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'NOPE',
    })
    const e503 = await rejection(request(noLoc, { path: '/x' }))
    expect(hasErrorCode(e503, 'NO_AGENT')).toBe(true)
    expect(e503.message).toContain('NOPE')

    const unmapped = httpDest({ Name: 'S4U', URL: 'http://other-host:1', ProxyType: 'OnPremise' })
    const e403 = await rejection(request(unmapped, { path: '/x' }))
    expect(hasErrorCode(e403, 'ACCESS_DENIED')).toBe(true)
    expect(e403.details?.requestSent).toBe(false)
  })

  it('says BINDING_NOT_FOUND without a connectivity binding', async () => {
    delete process.env.VCAP_SERVICES
    const d = httpDest({ Name: 'S4', URL: 'http://virtual-s4:44300', ProxyType: 'OnPremise' })
    const e = await rejection(request(d, { path: '/x' }))
    expect(hasErrorCode(e, 'BINDING_NOT_FOUND')).toBe(true)
    expect(e.message).toContain('S4')
  })
})

describe('OnPremise HTTPS through SOCKS5 (TLS end to end)', () => {
  it('tunnels with method 0x80, the connectivity token and base64 location, then speaks TLS to the virtual host', async () => {
    const pki = testPki()
    const base = httpDest({
      Name: 'S4TLS',
      URL: 'https://virtual-s4:443/sap',
      ProxyType: 'OnPremise',
      TrustStoreLocation: 'ca.pem',
    })
    const d = {
      ...base,
      certificates: [{ name: 'ca.pem', content: Buffer.from(pki.caPem).toString('base64'), type: 'PEM' }],
    }
    const res = await request(d, { path: '/secure' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { url: string }).url).toBe('/sap/secure')
    const rec = proxy.records.find((r) => r.kind === 'socks5')
    expect(rec?.target).toBe('virtual-s4:443')
    expect(rec?.greeting).toEqual(Buffer.from([0x05, 0x01, 0x80]))
    expect(rec?.authRequest?.[0]).toBe(0x01)
    expect(rec?.authRequest?.[rec.authRequest.length - 1]).toBe(0x00)
    expect(xsuaa.issued.has(rec?.proxyToken ?? '')).toBe(true)
  })

  it('rejects an untrusted backend certificate (CONNECT_FAILED, requestSent false)', async () => {
    const d = httpDest({ Name: 'S4TLS', URL: 'https://virtual-s4:443', ProxyType: 'OnPremise' })
    const e = await rejection(request(d, { path: '/secure' }))
    expect(hasErrorCode(e, 'CONNECT_FAILED')).toBe(true)
    expect(e.details?.requestSent).toBe(false)
  })

  it('maps SOCKS5 reply 02 (no mapping) to ACCESS_DENIED', async () => {
    const d = httpDest({
      Name: 'S4TLS',
      URL: 'https://unmapped:443',
      ProxyType: 'OnPremise',
      TrustAll: 'true',
    })
    const e = await rejection(request(d, { path: '/secure' }))
    expect(hasErrorCode(e, 'ACCESS_DENIED')).toBe(true)
    expect(e.details?.requestSent).toBe(false)
  })
})
