// biome-ignore-all lint/suspicious/noTemplateCurlyInString: subject patterns use ${claim} placeholders on purpose
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SocksClient } from 'socks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalCa } from '../../lib/tunnel/principal'
import { closedPort } from '../fixtures/net'
import { type SeenRequest, startEchoHttp, startEchoTcp } from './fixtures/backends'
import { type Stack, startStack } from './fixtures/stack'
import { DEV_SECRET, hsToken } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'

let stack: Stack
let backend: Awaited<ReturnType<typeof startEchoHttp>>
let tcp: Awaited<ReturnType<typeof startEchoTcp>>
let dir: string
let proxyToken: string

function viaProxy(
  url: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return loopbackRequest(stack.proxy.httpPort as number, url, { method, headers })
}

function socks(location: string, host: string, port: number, token = proxyToken) {
  const loc = Buffer.from(Buffer.from(location).toString('base64'))
  const head = Buffer.alloc(5)
  head[0] = 1
  head.writeUInt32BE(Buffer.byteLength(token), 1)
  return SocksClient.createConnection({
    proxy: {
      host: '127.0.0.1',
      port: stack.proxy.socksPort ?? 0,
      type: 5,
      custom_auth_method: 0x80,
      custom_auth_request_handler: async () =>
        Buffer.concat([head, Buffer.from(token), Buffer.from([loc.length]), loc]),
      custom_auth_response_size: 2,
      custom_auth_response_handler: async (d: Buffer) => d[0] === 1 && d[1] === 0,
    },
    command: 'connect',
    destination: { host, port },
    timeout: 5000,
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-e2e-'))
  const ca = await createLocalCa('E2E PP CA')
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem)
  backend = await startEchoHttp()
  tcp = await startEchoTcp('DB ')
  const down = await closedPort()
  stack = await startStack()
  const http = (virtualHost: string, port: number, extra: Record<string, unknown> = {}) => ({
    protocol: 'HTTP',
    virtualHost,
    virtualPort: 44300,
    internalHost: '127.0.0.1',
    internalPort: port,
    internalProtocol: 'http',
    hostInHeader: 'virtual',
    resources: [{ path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV', subPaths: true }],
    ...extra,
  })
  await stack.addAgent(
    {
      locationId: 'orlando',
      trust: { secret: DEV_SECRET },
      mappings: [
        http('s4.virtual', backend.port),
        http('s4-pp.virtual', backend.port, { principalPropagation: { mode: 'header' } }),
        http('s4-cert.virtual', backend.port, {
          principalPropagation: {
            mode: 'certificate',
            subjectPattern: 'CN=${user_name},O=ACME',
            caCert: 'ca.pem',
            caKey: 'ca-key.pem',
          },
        }),
        http('down.virtual', down),
        {
          protocol: 'TCP',
          virtualHost: 'db.virtual',
          virtualPort: 3306,
          internalHost: '127.0.0.1',
          internalPort: tcp.port,
        },
        {
          protocol: 'TCP',
          virtualHost: 'dbdown.virtual',
          virtualPort: 3306,
          internalHost: '127.0.0.1',
          internalPort: down,
        },
      ],
    },
    { baseDir: dir },
  )
  proxyToken = await hsToken({ sub: 'sb-conn', account: 'acme', grant_type: 'client_credentials' })
})
afterAll(async () => {
  await stack?.close()
  await backend?.close()
  await tcp?.close()
  rmSync(dir, { recursive: true, force: true })
})

const API = '/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=1'

describe('local connectivity proxy on the tunnel server, through a real agent', () => {
  it('binds the proxy ports to loopback', () => {
    expect(stack.proxy.httpPort).toBeGreaterThan(0)
    expect(stack.proxy.socksPort).toBeGreaterThan(0)
  })

  it('HTTP: reaches the backend; proxy credentials and SAP-Connectivity-* are stripped', async () => {
    const r = await viaProxy(`http://s4.virtual:44300${API}`, {
      'Proxy-Authorization': `Bearer ${proxyToken}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
      'SAP-Connectivity-Authentication': 'Bearer not-forwarded',
      'x-app': 'kept',
    })
    expect(r.status).toBe(200)
    const seen = JSON.parse(r.body) as SeenRequest
    expect(seen.url).toBe(API)
    expect(seen.headers['x-app']).toBe('kept')
    expect(Object.keys(seen.headers).filter((h) => /^(sap-connectivity|proxy-)/.test(h))).toEqual([])
  })

  it('HTTP status codes: 407, 403 (unmapped host and path outside the prefix), 400 escape, 405, 503, 502', async () => {
    const auth = {
      'Proxy-Authorization': `Bearer ${proxyToken}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
    }
    expect(
      (await viaProxy(`http://s4.virtual:44300${API}`, { 'SAP-Connectivity-SCC-Location_ID': 'orlando' }))
        .status,
    ).toBe(407)
    expect((await viaProxy(`http://other.virtual:44300${API}`, auth)).status).toBe(403)
    expect((await viaProxy('http://s4.virtual:44300/sap/bc/admin', auth)).status).toBe(403)
    expect(
      (await viaProxy('http://s4.virtual:44300/sap/opu/odata/sap/API_SALES_ORDER_SRV/../../admin', auth))
        .status,
    ).toBe(400)
    expect(
      (await viaProxy('http://s4.virtual:44300/sap/opu/odata/sap/API_SALES_ORDER_SRV/%2e%2e/x', auth)).status,
    ).toBe(400)
    expect((await viaProxy(`https://s4.virtual:44300${API}`, auth)).status).toBe(405)
    expect(
      (
        await viaProxy(`http://s4.virtual:44300${API}`, {
          ...auth,
          'SAP-Connectivity-SCC-Location_ID': 'nowhere',
        })
      ).status,
    ).toBe(503)
    const other = await hsToken({ sub: 'x', account: 'globex' })
    expect(
      (await viaProxy(`http://s4.virtual:44300${API}`, { ...auth, 'Proxy-Authorization': `Bearer ${other}` }))
        .status,
    ).toBe(503)
    expect((await viaProxy(`http://down.virtual:44300${API}`, auth)).status).toBe(502)
  })

  it('principal propagation, header form: SAP-Connectivity-Authentication (forwarded) and an exchanged user token', async () => {
    const user = await hsToken({ user_name: 'alice', email: 'alice@example.com' })
    const base = {
      'Proxy-Authorization': `Bearer ${proxyToken}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
    }
    const a = await viaProxy(`http://s4-pp.virtual:44300${API}`, {
      ...base,
      'SAP-Connectivity-Authentication': `Bearer ${user}`,
      'SAP-Connectivity-User': 'admin',
    })
    expect(a.status).toBe(200)
    expect((JSON.parse(a.body) as SeenRequest).headers['sap-connectivity-user']).toBe('alice')
    const exchanged = await hsToken({
      user_name: 'bob',
      account: 'acme',
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    })
    const b = await viaProxy(`http://s4-pp.virtual:44300${API}`, {
      'Proxy-Authorization': `Bearer ${exchanged}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
    })
    expect(b.status).toBe(200)
    expect((JSON.parse(b.body) as SeenRequest).headers['sap-connectivity-user']).toBe('bob')
  })

  it('principal propagation refused without a valid user (no token, expired, foreign signature)', async () => {
    const base = {
      'Proxy-Authorization': `Bearer ${proxyToken}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
    }
    const seen = backend.seen.length
    expect((await viaProxy(`http://s4-pp.virtual:44300${API}`, base)).status).toBe(401)
    const expired = await hsToken({ user_name: 'alice' }, { ttl: -300 })
    expect(
      (
        await viaProxy(`http://s4-pp.virtual:44300${API}`, {
          ...base,
          'SAP-Connectivity-Authentication': `Bearer ${expired}`,
        })
      ).status,
    ).toBe(401)
    const forged = await hsToken({ user_name: 'alice' }, { secret: 'not-the-agent-trust-secret-000' })
    expect(
      (
        await viaProxy(`http://s4-pp.virtual:44300${API}`, {
          ...base,
          'SAP-Connectivity-Authentication': `Bearer ${forged}`,
        })
      ).status,
    ).toBe(401)
    expect(backend.seen.length).toBe(seen)
  })

  it('principal propagation, certificate form: SSL_CLIENT_CERT with the user subject, short validity', async () => {
    const user = await hsToken({ user_name: 'carol' })
    const r = await viaProxy(`http://s4-cert.virtual:44300${API}`, {
      'Proxy-Authorization': `Bearer ${proxyToken}`,
      'SAP-Connectivity-SCC-Location_ID': 'orlando',
      'SAP-Connectivity-Authentication': `Bearer ${user}`,
    })
    expect(r.status).toBe(200)
    const der = (JSON.parse(r.body) as SeenRequest).headers.ssl_client_cert as string
    const cert = new X509Certificate(Buffer.from(der, 'base64'))
    expect(cert.subject).toBe('CN=carol\nO=ACME')
    expect(cert.issuer).toBe('CN=E2E PP CA')
    expect(Date.parse(cert.validTo) - Date.now()).toBeLessThanOrEqual(600_000 + 1000)
  })

  it('SOCKS5 0x80 through the agent: data flows; REP 02, 03, 04', async () => {
    const { socket } = await socks('orlando', 'db.virtual', 3306)
    const got: Buffer[] = []
    socket.on('data', (c: Buffer) => got.push(c))
    socket.end('select 1')
    await new Promise((r) => socket.on('close', r))
    expect(Buffer.concat(got).toString()).toBe('DB select 1')
    await expect(socks('orlando', 'secret.virtual', 22)).rejects.toThrow(/NotAllowed/i)
    await expect(socks('nowhere', 'db.virtual', 3306)).rejects.toThrow(/NetworkUnreachable/i)
    await expect(socks('orlando', 'dbdown.virtual', 3306)).rejects.toThrow(/HostUnreachable/i)
  })
})
