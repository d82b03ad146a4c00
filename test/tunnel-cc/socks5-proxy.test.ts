import { type AddressInfo, connect, type Socket } from 'node:net'
import { SocksClient } from 'socks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTokenAuthenticator,
  Socks5ConnectivityProxy,
  trustedAuthenticator,
} from '../../lib/tunnel/proxy'
import { closedPort } from '../fixtures/net'
import { waitUntil } from '../fixtures/wait'
import { loopbackOpener, startEchoTcp } from './fixtures/backends'
import { DEV_SECRET, hsToken } from './fixtures/tokens'

let echo: Awaited<ReturnType<typeof startEchoTcp>>
let proxy: Socks5ConnectivityProxy
let addr: AddressInfo
let opener: ReturnType<typeof loopbackOpener>
let token: string

/** SAP's auth request: 01 | u32 BE JWT length | JWT | u8 length | base64(location id). */
function authRequest(jwt: string, location: string): Buffer {
  const loc = Buffer.from(Buffer.from(location).toString('base64'))
  const head = Buffer.alloc(5)
  head[0] = 0x01
  head.writeUInt32BE(Buffer.byteLength(jwt), 1)
  return Buffer.concat([head, Buffer.from(jwt), Buffer.from([loc.length]), loc])
}

function socksOptions(jwt: string, location: string, host: string, port: number) {
  return {
    proxy: {
      host: '127.0.0.1',
      port: addr.port,
      type: 5 as const,
      custom_auth_method: 0x80,
      custom_auth_request_handler: async () => authRequest(jwt, location),
      custom_auth_response_size: 2,
      custom_auth_response_handler: async (data: Buffer) => data[0] === 0x01 && data[1] === 0x00,
    },
    command: 'connect' as const,
    destination: { host, port },
    timeout: 5000,
  }
}

/** A raw client: send `bytes` step by step, collect what the server answers. */
class RawClient {
  readonly socket: Socket
  #buf = Buffer.alloc(0)
  #closed = false
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c])
    })
    this.socket.on('close', () => {
      this.#closed = true
    })
    this.socket.on('error', () => {})
  }
  async read(n: number): Promise<Buffer> {
    const until = Date.now() + 5000
    while (this.#buf.length < n) {
      if (this.#closed || Date.now() > until)
        throw new Error(`expected ${n} bytes, got ${this.#buf.toString('hex')}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    const out = this.#buf.subarray(0, n)
    this.#buf = this.#buf.subarray(n)
    return out
  }
  async closed(): Promise<boolean> {
    const until = Date.now() + 5000
    while (!this.#closed && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
    return this.#closed
  }
}

beforeAll(async () => {
  echo = await startEchoTcp('HELLO ')
  const down = await closedPort()
  opener = loopbackOpener({ 'db.virtual:3306': echo.port, 'down.virtual:1': down }, { account: 'acme' })
  proxy = new Socks5ConnectivityProxy({
    openStream: opener,
    authenticate: createTokenAuthenticator({ secret: DEV_SECRET }),
    port: 0,
  })
  addr = await proxy.listen()
  token = await hsToken({ sub: 'sb-conn', account: 'acme', grant_type: 'client_credentials' })
})
afterAll(async () => {
  await proxy.close()
  await echo.close()
})

describe('SOCKS5 connectivity proxy (method 0x80)', () => {
  it('binds to loopback by default', () => {
    expect(addr.address).toBe('127.0.0.1')
  })

  it('lets a socks client with custom_auth_method 0x80 (greeting 05 02 00 80) reach a TCP backend', async () => {
    const { socket } = await SocksClient.createConnection(socksOptions(token, 'loc-A/ä', 'db.virtual', 3306))
    const got: Buffer[] = []
    socket.on('data', (c: Buffer) => got.push(c))
    socket.end('ping')
    await new Promise((r) => socket.on('close', r))
    // Half-close: the client finished sending, and still received the echo of everything.
    expect(Buffer.concat(got).toString()).toBe('HELLO ping')
    const call = opener.calls.at(-1)
    expect(call).toMatchObject({
      account: 'acme',
      locationId: 'loc-A/ä',
      kind: 'tcp',
      target: { host: 'db.virtual', port: 3306 },
    })
  })

  it('speaks the exact byte layout of SAP Java sample (05 01 80, 01|u32|jwt|u8|base64, IPv4 CONNECT)', async () => {
    const c = new RawClient(addr.port)
    c.socket.write(Buffer.from([0x05, 0x01, 0x80]))
    expect([...(await c.read(2))]).toEqual([0x05, 0x80])
    c.socket.write(authRequest(token, 'orlando'))
    expect([...(await c.read(2))]).toEqual([0x01, 0x00])
    // CONNECT to a domain name (ATYP 03)
    const host = Buffer.from('db.virtual')
    c.socket.write(
      Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x03, host.length]), host, Buffer.from([0x0c, 0xea])]),
    )
    expect([...(await c.read(10))]).toEqual([0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
    expect((await c.read(6)).toString()).toBe('HELLO ')
    c.socket.write('x')
    expect((await c.read(1)).toString()).toBe('x')
    expect(opener.calls.at(-1)?.locationId).toBe('orlando')
    c.socket.destroy()
  })

  it('sends an empty location as a single 00 byte (default location)', async () => {
    const { socket } = await SocksClient.createConnection(socksOptions(token, '', 'db.virtual', 3306))
    socket.destroy()
    expect(opener.calls.at(-1)?.locationId).toBe('')
  })

  it('answers 01 01 to a bad, expired or missing token', async () => {
    const expired = await hsToken({ sub: 'x', account: 'acme' }, { ttl: -120 })
    const forged = await hsToken(
      { sub: 'x', account: 'acme' },
      { secret: 'another-secret-that-is-long-enough' },
    )
    for (const bad of [expired, forged, '', 'not-a-jwt']) {
      const c = new RawClient(addr.port)
      c.socket.write(Buffer.from([0x05, 0x02, 0x00, 0x80]))
      expect([...(await c.read(2))]).toEqual([0x05, 0x80])
      c.socket.write(authRequest(bad, 'loc'))
      expect([...(await c.read(2))]).toEqual([0x01, 0x01])
      expect(await c.closed()).toBe(true)
    }
    await expect(
      SocksClient.createConnection(socksOptions(expired, '', 'db.virtual', 3306)),
    ).rejects.toThrow()
  })

  it('refuses a greeting without method 0x80 (05 FF)', async () => {
    const c = new RawClient(addr.port)
    c.socket.write(Buffer.from([0x05, 0x01, 0x00]))
    expect([...(await c.read(2))]).toEqual([0x05, 0xff])
    expect(await c.closed()).toBe(true)
  })

  it('refuses a location id that is not base64', async () => {
    const c = new RawClient(addr.port)
    c.socket.write(Buffer.from([0x05, 0x01, 0x80]))
    await c.read(2)
    const head = Buffer.alloc(5)
    head[0] = 1
    head.writeUInt32BE(token.length, 1)
    c.socket.write(Buffer.concat([head, Buffer.from(token), Buffer.from([3]), Buffer.from('a*b')]))
    expect([...(await c.read(2))]).toEqual([0x01, 0x01])
  })

  async function rep(host: string, port: number, location = '', cmd = 0x01, ipv6 = false): Promise<number> {
    const c = new RawClient(addr.port)
    c.socket.write(Buffer.from([0x05, 0x01, 0x80]))
    await c.read(2)
    c.socket.write(authRequest(token, location))
    expect([...(await c.read(2))]).toEqual([0x01, 0x00])
    const portBuf = Buffer.alloc(2)
    portBuf.writeUInt16BE(port)
    const addrPart = ipv6
      ? Buffer.concat([Buffer.from([0x04]), Buffer.alloc(16)])
      : Buffer.concat([Buffer.from([0x03, host.length]), Buffer.from(host)])
    c.socket.write(Buffer.concat([Buffer.from([0x05, cmd, 0x00]), addrPart, portBuf]))
    const reply = await c.read(10)
    expect(reply[0]).toBe(0x05)
    expect(await c.closed()).toBe(true)
    return reply[1] ?? -1
  }

  it('REP 02 when no mapping allows the target', async () => {
    expect(await rep('secret.virtual', 22)).toBe(0x02)
  })
  it('REP 03 when no agent serves the location', async () => {
    expect(await rep('db.virtual', 3306, 'offline')).toBe(0x03)
  })
  it('REP 04 when the backend is unreachable from the agent', async () => {
    expect(await rep('down.virtual', 1)).toBe(0x04)
  })
  it('REP 07 for BIND/UDP ASSOCIATE and REP 08 for IPv6 addresses', async () => {
    expect(await rep('db.virtual', 3306, '', 0x02)).toBe(0x07)
    expect(await rep('', 3306, '', 0x01, true)).toBe(0x08)
  })
  it('the socks client reports the rejection reason', async () => {
    await expect(SocksClient.createConnection(socksOptions(token, '', 'secret.virtual', 22))).rejects.toThrow(
      /NotAllowed/i,
    )
    await expect(
      SocksClient.createConnection(socksOptions(token, 'offline', 'db.virtual', 3306)),
    ).rejects.toThrow(/NetworkUnreachable/i)
    await expect(SocksClient.createConnection(socksOptions(token, '', 'down.virtual', 1))).rejects.toThrow(
      /HostUnreachable/i,
    )
  })
  it('trusted mode with allowNoAuth accepts method 00 (default location)', async () => {
    const trusted = new Socks5ConnectivityProxy({
      openStream: opener,
      authenticate: trustedAuthenticator('acme'),
      allowNoAuth: true,
      port: 0,
    })
    const { port } = await trusted.listen()
    try {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port, type: 5 },
        command: 'connect',
        destination: { host: 'db.virtual', port: 3306 },
        timeout: 5000,
      })
      socket.destroy()
      expect(opener.calls.at(-1)).toMatchObject({ account: 'acme', locationId: '' })
    } finally {
      await trusted.close()
    }
  })

  it('counts connections, CONNECTs that reached a backend, and failures', async () => {
    const before = { ...proxy.stats }
    const { socket } = await SocksClient.createConnection(socksOptions(token, '', 'db.virtual', 3306))
    socket.destroy()
    await expect(
      SocksClient.createConnection(socksOptions(token, '', 'secret.virtual', 22)),
    ).rejects.toThrow()
    await waitUntil(() => proxy.stats.connected > before.connected && proxy.stats.failed > before.failed, {
      timeoutMs: 2000,
      what: 'socks counters',
    })
    expect(proxy.stats.connections - before.connections).toBe(2)
    expect(proxy.stats.connected - before.connected).toBe(1)
    expect(proxy.stats.failed - before.failed).toBe(1)
  })

  it("only reaches the caller's own account", async () => {
    const other = await hsToken({ sub: 'sb-conn', account: 'globex' })
    await expect(SocksClient.createConnection(socksOptions(other, '', 'db.virtual', 3306))).rejects.toThrow(
      /NetworkUnreachable/i,
    )
    expect(opener.calls.at(-1)?.account).toBe('globex')
  })
})
