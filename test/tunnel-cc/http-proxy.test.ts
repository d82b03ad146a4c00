import type { IncomingHttpHeaders } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { Duplex } from 'node:stream'
import { ProxyAgent, request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TunnelError } from '../../lib/errors'
import {
  createTokenAuthenticator,
  HttpConnectivityProxy,
  type ProxyStreamOpener,
  type ProxyStreamRequest,
  trustedAuthenticator,
} from '../../lib/tunnel/proxy'
import { closedPort } from '../fixtures/net'
import { loopbackOpener, type SeenRequest, startEchoHttp } from './fixtures/backends'
import { DEV_SECRET, hsToken } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'

let backend: Awaited<ReturnType<typeof startEchoHttp>>
let proxy: HttpConnectivityProxy
let addr: AddressInfo
let opener: ReturnType<typeof loopbackOpener>
let token: string

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Plain node:http through the proxy with an absolute URI (what the Cloud SDK's axios does). */
function viaProxy(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
  port = addr.port,
): Promise<Reply> {
  return loopbackRequest(port, url, { method, headers, ...(body === undefined ? {} : { body }) })
}

beforeAll(async () => {
  backend = await startEchoHttp()
  const down = await closedPort()
  opener = loopbackOpener({ 's4.virtual:44300': backend.port, 'down.virtual:80': down }, { account: 'acme' })
  proxy = new HttpConnectivityProxy({
    openStream: opener,
    authenticate: createTokenAuthenticator({ secret: DEV_SECRET }),
    port: 0,
  })
  addr = await proxy.listen()
  token = await hsToken({ sub: 'sb-conn', account: 'acme', grant_type: 'client_credentials' })
})
afterAll(async () => {
  await proxy.close()
  await backend.close()
})

describe('HTTP connectivity proxy', () => {
  it('forwards an absolute-URI request; Proxy-Authorization and SAP-Connectivity-* never reach the backend', async () => {
    const r = await viaProxy(
      'http://s4.virtual:44300/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=2',
      {
        'Proxy-Authorization': `Bearer ${token}`,
        'SAP-Connectivity-SCC-Location_ID': 'orlando',
        'SAP-Connectivity-Authentication': 'Bearer user.jwt.value',
        'SAP-Connectivity-Technical-Authentication': 'Bearer tech',
        'x-custom': 'kept',
      },
    )
    expect(r.status).toBe(200)
    expect(r.headers['x-backend']).toBe('echo')
    const seen = JSON.parse(r.body) as SeenRequest
    expect(seen.url).toBe('/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$top=2')
    expect(seen.headers.host).toBe('s4.virtual:44300')
    expect(seen.headers['x-custom']).toBe('kept')
    expect(
      Object.keys(seen.headers).filter((h) => h.startsWith('sap-connectivity') || h.startsWith('proxy-')),
    ).toEqual([])
    expect(opener.calls.at(-1)).toMatchObject({
      account: 'acme',
      locationId: 'orlando',
      kind: 'http',
      principal: 'user.jwt.value',
      target: { host: 's4.virtual', port: 44300 },
    })
  })

  it('accepts Basic base64(<jwt>:) as proxy credentials and serves undici ProxyAgent (no tunnel) with POST bodies', async () => {
    const agent = new ProxyAgent({
      uri: `http://127.0.0.1:${addr.port}`,
      token: `Basic ${Buffer.from(`${token}:`).toString('base64')}`,
      proxyTunnel: false,
    })
    try {
      const r = await undiciRequest('http://s4.virtual:44300/sap/x', {
        dispatcher: agent,
        method: 'POST',
        body: 'a'.repeat(100_000),
      })
      expect(r.statusCode).toBe(200)
      const seen = (await r.body.json()) as SeenRequest
      expect(seen.method).toBe('POST')
      expect(seen.body.length).toBe(100_000)
    } finally {
      await agent.close()
    }
  })

  it('a user token in Proxy-Authorization (exchanged token) is the principal', async () => {
    const userToken = await hsToken({
      sub: 'u1',
      user_name: 'alice',
      account: 'acme',
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    })
    const r = await viaProxy('http://s4.virtual:44300/x', { 'Proxy-Authorization': `Bearer ${userToken}` })
    expect(r.status).toBe(200)
    expect(opener.calls.at(-1)?.principal).toBe(userToken)
    await viaProxy('http://s4.virtual:44300/x', { 'Proxy-Authorization': `Bearer ${token}` })
    expect(opener.calls.at(-1)?.principal).toBeUndefined()
  })

  it('407 for a missing, malformed, expired or foreign-signed proxy token', async () => {
    const expired = await hsToken({ sub: 'x', account: 'acme' }, { ttl: -120 })
    const forged = await hsToken(
      { sub: 'x', account: 'acme' },
      { secret: 'another-secret-that-is-long-enough' },
    )
    const n = opener.calls.length
    for (const h of [
      {} as Record<string, string>,
      { 'Proxy-Authorization': 'Bearer' },
      { 'Proxy-Authorization': `Bearer ${expired}` },
      { 'Proxy-Authorization': `Bearer ${forged}` },
    ]) {
      const r = await viaProxy('http://s4.virtual:44300/x', h)
      expect(r.status).toBe(407)
      expect(r.headers['proxy-authenticate']).toMatch(/^Bearer/)
      expect(r.body).not.toContain(expired.slice(0, 20))
    }
    expect(opener.calls.length).toBe(n)
  })

  it('405 for https:// absolute URIs and for CONNECT', async () => {
    const auth = { 'Proxy-Authorization': `Bearer ${token}` }
    expect((await viaProxy('https://s4.virtual:44300/x', auth)).status).toBe(405)
    const status = await new Promise<string>((resolve, reject) => {
      const s = connect(addr.port, '127.0.0.1', () =>
        s.write(
          `CONNECT s4.virtual:443 HTTP/1.1\r\nHost: s4.virtual:443\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
        ),
      )
      s.once('data', (d: Buffer) => {
        resolve(d.toString().split('\r\n')[0] ?? '')
        s.destroy()
      })
      s.on('error', reject)
    })
    expect(status).toBe('HTTP/1.1 405 Method Not Allowed')
    const upgrade = await new Promise<string>((resolve, reject) => {
      const s = connect(addr.port, '127.0.0.1', () =>
        s.write(
          'GET http://s4.virtual:44300/ws HTTP/1.1\r\nHost: s4.virtual:44300\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        ),
      )
      s.once('data', (d: Buffer) => {
        resolve(d.toString().split('\r\n')[0] ?? '')
        s.destroy()
      })
      s.on('error', reject)
    })
    expect(upgrade).toBe('HTTP/1.1 403 Forbidden')
  })

  it('400 for origin-form requests and for paths that try to escape a prefix', async () => {
    const auth = { 'Proxy-Authorization': `Bearer ${token}` }
    expect((await viaProxy('/relative', auth)).status).toBe(400)
    const n = opener.calls.length
    for (const p of [
      '/api/../admin',
      '/api/%2e%2e/admin',
      '/api/%2E%2e/admin',
      '/api/.%2E/admin',
      '/api%2fadmin',
      '/api/%5c..',
      '/api/./x',
    ]) {
      const r = await viaProxy(`http://s4.virtual:44300${p}`, auth)
      expect(r.status, p).toBe(400)
    }
    expect(opener.calls.length).toBe(n)
  })

  it('403 not allowed, 503 no agent (or other account), 502 backend unreachable', async () => {
    const auth = { 'Proxy-Authorization': `Bearer ${token}` }
    expect((await viaProxy('http://secret.virtual:80/x', auth)).status).toBe(403)
    expect(
      (
        await viaProxy('http://s4.virtual:44300/x', {
          ...auth,
          'SAP-Connectivity-SCC-Location_ID': 'offline',
        })
      ).status,
    ).toBe(503)
    const other = await hsToken({ sub: 'sb', account: 'globex' })
    expect(
      (await viaProxy('http://s4.virtual:44300/x', { 'Proxy-Authorization': `Bearer ${other}` })).status,
    ).toBe(503)
    expect((await viaProxy('http://down.virtual:80/x', auth)).status).toBe(502)
  })

  it('4xx for a request line or a header line over 8192 bytes', async () => {
    const auth = { 'Proxy-Authorization': `Bearer ${token}` }
    expect((await viaProxy(`http://s4.virtual:44300/${'a'.repeat(8200)}`, auth)).status).toBe(414)
    expect((await viaProxy('http://s4.virtual:44300/x', { ...auth, 'x-big': 'b'.repeat(8200) })).status).toBe(
      431,
    )
    expect(
      (await viaProxy(`http://s4.virtual:44300/${'a'.repeat(4000)}`, { ...auth, 'x-ok': 'b'.repeat(4000) }))
        .status,
    ).toBe(200)
  })

  it('trusted mode needs no proxy token', async () => {
    const trusted = new HttpConnectivityProxy({
      openStream: opener,
      authenticate: trustedAuthenticator('acme'),
      port: 0,
    })
    const { port } = await trusted.listen()
    try {
      const r = await viaProxy('http://s4.virtual:44300/x', {}, 'GET', undefined, port)
      expect(r.status).toBe(200)
      expect(opener.calls.at(-1)?.account).toBe('acme')
    } finally {
      await trusted.close()
    }
  })
})

describe('HTTP proxy keep-alive streams', () => {
  it('idempotent requests reuse one stream per caller/location/target/user; users never share; POST gets its own', async () => {
    const counting = loopbackOpener({ 's4.virtual:44300': backend.port })
    const p = new HttpConnectivityProxy({
      openStream: counting,
      authenticate: trustedAuthenticator('acme'),
      port: 0,
    })
    const { port } = await p.listen()
    try {
      for (let i = 0; i < 5; i++)
        expect((await viaProxy('http://s4.virtual:44300/a', {}, 'GET', undefined, port)).status).toBe(200)
      expect(counting.calls).toHaveLength(1)
      const alice = { 'SAP-Connectivity-Authentication': 'Bearer alice.jwt.x' }
      const bob = { 'SAP-Connectivity-Authentication': 'Bearer bob.jwt.x' }
      await viaProxy('http://s4.virtual:44300/a', alice, 'GET', undefined, port)
      await viaProxy('http://s4.virtual:44300/a', bob, 'GET', undefined, port)
      await viaProxy('http://s4.virtual:44300/a', alice, 'GET', undefined, port)
      expect(counting.calls.map((c) => c.principal)).toEqual([undefined, 'alice.jwt.x', 'bob.jwt.x'])
      await viaProxy('http://s4.virtual:44300/a', {}, 'POST', 'x', port)
      await viaProxy('http://s4.virtual:44300/a', {}, 'POST', 'y', port)
      expect(counting.calls).toHaveLength(5)
    } finally {
      await p.close()
    }
  })
})

describe('HTTP proxy retry when the agent session dies before any response byte', () => {
  /** First stream of each request dies like a lost agent session; later ones reach the backend. */
  function flakyOpener(): ProxyStreamOpener & { opened: number } {
    const real = loopbackOpener({ 's4.virtual:44300': backend.port })
    let n = 0
    const open = (async (req: ProxyStreamRequest) => {
      n++
      open.opened = n
      if (n % 2 === 1) {
        const dead = new Duplex({
          read() {},
          write(_c, _e, cb) {
            cb()
          },
        })
        setTimeout(() => dead.destroy(new TunnelError('TUNNEL_CLOSED', 'agent session closed')), 5)
        return dead
      }
      return real(req)
    }) as ProxyStreamOpener & { opened: number }
    open.opened = 0
    return open
  }

  it('retries GET/PUT once on another stream; POST is not retried (502)', async () => {
    const flaky = flakyOpener()
    const p = new HttpConnectivityProxy({
      openStream: flaky,
      authenticate: trustedAuthenticator('acme'),
      port: 0,
    })
    const { port } = await p.listen()
    try {
      const seenBefore = backend.seen.length
      const get = await viaProxy('http://s4.virtual:44300/g', {}, 'GET', undefined, port)
      expect(get.status).toBe(200)
      const put = await viaProxy(
        'http://s4.virtual:44300/p',
        { 'content-type': 'text/plain' },
        'PUT',
        'payload',
        port,
      )
      expect(put.status).toBe(200)
      expect((JSON.parse(put.body) as SeenRequest).body).toBe('payload')
      expect(flaky.opened).toBe(4)
      const post = await viaProxy('http://s4.virtual:44300/c', {}, 'POST', 'x', port)
      expect(post.status).toBe(502)
      expect(flaky.opened).toBe(5)
      expect(backend.seen.length - seenBefore).toBe(2)
    } finally {
      await p.close()
    }
  })
})
