import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { Socks5Connector, socks5AuthRequest, socks5ConnectRequest } from '../../lib/transport/socks5'
import { startConnectivityProxy } from '../fixtures/connectivity-proxy'
import { listenLoopback } from '../fixtures/net'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.()
})

async function echoServer(): Promise<number> {
  const server = createServer((s) => s.pipe(s))
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await listenLoopback(server)
  cleanups.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  })
  return (server.address() as { port: number }).port
}

/** A SOCKS5 server that accepts 0x80 and then answers CONNECT with `rep`. */
async function replyServer(behaviour: {
  method?: number
  authStatus?: number
  rep?: number
  silent?: boolean
}): Promise<number> {
  const server: Server = createServer((s) => {
    s.on('error', () => undefined)
    if (behaviour.silent) return
    let stage = 0
    s.on('data', () => {
      if (stage === 0) s.write(Buffer.from([0x05, behaviour.method ?? 0x80]))
      else if (stage === 1) s.write(Buffer.from([0x01, behaviour.authStatus ?? 0x00]))
      else s.write(Buffer.from([0x05, behaviour.rep ?? 0x00, 0x00, 0x03, 0x02, 0x61, 0x62, 0x00, 0x50]))
      stage++
    })
  })
  const sockets = new Set<Socket>()
  server.on('connection', (c) => {
    sockets.add(c)
    c.on('close', () => sockets.delete(c))
  })
  await listenLoopback(server)
  cleanups.push(async () => {
    for (const c of sockets) c.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  })
  return (server.address() as { port: number }).port
}

describe('SOCKS5 method 0x80 wire format', () => {
  it('builds the auth request 01 | u32 BE len | JWT | u8 len | base64(location)', () => {
    const buf = socks5AuthRequest('abc.def.ghi', 'LOC-1')
    const loc = Buffer.from('LOC-1').toString('base64')
    expect(buf[0]).toBe(0x01)
    expect(buf.readUInt32BE(1)).toBe(11)
    expect(buf.subarray(5, 16).toString()).toBe('abc.def.ghi')
    expect(buf[16]).toBe(loc.length)
    expect(buf.subarray(17).toString()).toBe(loc)
  })

  it('sends a single 00 when there is no location id', () => {
    const buf = socks5AuthRequest('x', undefined)
    expect([...buf]).toEqual([0x01, 0, 0, 0, 1, 0x78, 0x00])
    expect([...socks5AuthRequest('x', '')].at(-1)).toBe(0)
  })

  it('rejects a location id whose base64 exceeds 255 bytes', () => {
    expect(() => socks5AuthRequest('x', 'a'.repeat(200))).toThrow(/too long/)
  })

  it('builds CONNECT for IPv4 and domain names, refuses IPv6', () => {
    expect([...socks5ConnectRequest('10.1.2.3', 443)]).toEqual([5, 1, 0, 1, 10, 1, 2, 3, 1, 187])
    expect([...socks5ConnectRequest('db', 5432)]).toEqual([5, 1, 0, 3, 2, 0x64, 0x62, 0x15, 0x38])
    expect(() => socks5ConnectRequest('::1', 80)).toThrow(/IPv6/)
  })
})

describe('Socks5Connector against the fake connectivity proxy', () => {
  it('tunnels bytes end to end and delivers token and location to the proxy', async () => {
    const echo = await echoServer()
    const proxy = await startConnectivityProxy({
      mappings: { LOC1: { 'virtual-db:5432': echo } },
      acceptToken: (t) => t === 'conn-token',
    })
    cleanups.push(() => proxy.close())
    const c = new Socks5Connector({
      host: '127.0.0.1',
      port: proxy.socksPort,
      token: async () => 'conn-token',
    })
    const s = await c.connect({ host: 'virtual-db', port: 5432 }, { locationId: 'LOC1' })
    const got = new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())))
    s.write('ping')
    expect(await got).toBe('ping')
    s.destroy()
    expect(proxy.records[0]).toMatchObject({
      kind: 'socks5',
      target: 'virtual-db:5432',
      proxyToken: 'conn-token',
      locationId: 'LOC1',
    })
  })

  it('maps reply codes: 05 → PROXY_AUTH_FAILED, 03 → NO_AGENT, 02 → ACCESS_DENIED', async () => {
    const proxy = await startConnectivityProxy({ mappings: { '': {} }, acceptToken: (t) => t === 'good' })
    cleanups.push(() => proxy.close())
    const conn = (token: string) => new Socks5Connector({ host: '127.0.0.1', port: proxy.socksPort, token })
    const codes: unknown[] = []
    for (const [token, loc] of [
      ['bad', ''],
      ['good', 'UNKNOWN'],
      ['good', ''],
    ] as const) {
      const e = await conn(token)
        .connect({ host: 'db', port: 1 }, { locationId: loc })
        .catch((err: { code: string; details: { requestSent: boolean } }) => err)
      codes.push([
        (e as { code: string }).code,
        (e as { details: { requestSent: boolean } }).details.requestSent,
      ])
    }
    expect(codes).toEqual([
      ['PROXY_AUTH_FAILED', false],
      ['NO_AGENT', false],
      ['ACCESS_DENIED', false],
    ])
  })
})

describe('Socks5Connector edge cases', () => {
  it('maps 04 → CONNECT_FAILED and a refused method → PROXY_AUTH_FAILED and a failed auth status', async () => {
    const p1 = await replyServer({ rep: 0x04 })
    const e1 = await new Socks5Connector({ host: '127.0.0.1', port: p1 })
      .connect({ host: 'x', port: 1 })
      .catch((e: unknown) => e)
    expect(hasErrorCode(e1, 'CONNECT_FAILED')).toBe(true)
    const p2 = await replyServer({ method: 0xff })
    const e2 = await new Socks5Connector({ host: '127.0.0.1', port: p2 })
      .connect({ host: 'x', port: 1 })
      .catch((e: unknown) => e)
    expect(hasErrorCode(e2, 'PROXY_AUTH_FAILED')).toBe(true)
    const p3 = await replyServer({ authStatus: 0x01 })
    const e3 = await new Socks5Connector({ host: '127.0.0.1', port: p3 })
      .connect({ host: 'x', port: 1 })
      .catch((e: unknown) => e)
    expect(hasErrorCode(e3, 'PROXY_AUTH_FAILED')).toBe(true)
  })

  it('skips a domain-typed bound address and succeeds', async () => {
    const p = await replyServer({ rep: 0x00 })
    const s = await new Socks5Connector({ host: '127.0.0.1', port: p }).connect({ host: 'x', port: 1 })
    expect(s.readableLength).toBe(0)
    s.destroy()
  })

  it('times out a silent proxy with CONNECT_TIMEOUT and honours an AbortSignal', async () => {
    const p = await replyServer({ silent: true })
    const c = new Socks5Connector({ host: '127.0.0.1', port: p })
    const e = await c.connect({ host: 'x', port: 1 }, { timeoutMs: 150 }).catch((err: unknown) => err)
    expect(hasErrorCode(e, 'CONNECT_TIMEOUT')).toBe(true)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const e2 = await c.connect({ host: 'x', port: 1 }, { signal: ac.signal }).catch((err: unknown) => err)
    expect(hasErrorCode(e2, 'REQUEST_ABORTED')).toBe(true)
  })

  it('validates options', () => {
    expect(() => new Socks5Connector({ host: '', port: 1 })).toThrow(TypeError)
    expect(() => new Socks5Connector({ host: 'h', port: 70000 })).toThrow(RangeError)
  })
})
