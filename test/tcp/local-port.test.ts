import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { openLocalPort } from '../../lib/tcp/local-port'
import {
  echoExact,
  type OnPremiseEnv,
  roundTrip,
  sha256,
  startEcho,
  startOnPremiseEnv,
  type TestServer,
  tcpDestination,
} from './helpers'
import { closedPort } from '../fixtures/net'

/** Deterministic pseudo-random bytes per connection, so each stream's checksum differs. */
function payloadFor(i: number, size: number): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('sha256').update(`seed-${i}`).digest()
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off)
    block = createHash('sha256').update(block).digest()
  }
  return out
}

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, allowHalfOpen: true }, () => resolve(s))
    s.once('error', reject)
  })
}

describe('openLocalPort — direct', () => {
  let echo: TestServer
  beforeAll(async () => {
    echo = await startEcho()
  })
  afterAll(() => echo.close())

  it('carries checksummed bulk data over many parallel connections (bounded)', async () => {
    const local = await openLocalPort(tcpDestination('BULK', `127.0.0.1:${echo.port}`), {
      maxConnections: 64,
    })
    expect(local.host).toBe('127.0.0.1')
    const before = echo.connections
    const N = 32
    const SIZE = 1024 * 1024
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const payload = payloadFor(i, SIZE)
        const socket = await connect(local.port)
        const back = await roundTrip(socket, payload)
        return { sent: sha256(payload), got: sha256(back), length: back.length }
      }),
    )
    for (const r of results) expect(r).toEqual({ sent: r.sent, got: r.sent, length: SIZE })
    expect(echo.connections - before).toBe(N)
    await local.close()
  })

  it('resets the local client and reports why when the destination cannot be reached', async () => {
    const port = await closedPort()
    const errors: Error[] = []
    const local = await openLocalPort(tcpDestination('GONE', `127.0.0.1:${port}`), {
      onError: (e) => errors.push(e),
    })
    const socket = await connect(local.port)
    const [err] = await once(socket, 'error')
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET')
    expect(errors[0]).toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringContaining('destination "GONE"'),
    })
    await local.close()
  })

  it('close() stops listening and closes carried connections', async () => {
    const local = await openLocalPort(tcpDestination('ECHO', `127.0.0.1:${echo.port}`))
    const socket = await connect(local.port)
    await echoExact(socket, Buffer.from('hello'))
    expect(local.connections).toBe(1)
    // The test socket is half-open capable, so the carried connection's close shows as 'end'.
    const ended = once(socket, 'end')
    await local.close()
    await ended
    expect(local.connections).toBe(0)
    await expect(connect(local.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('listens on loopback only, and reports a taken port as PORT_IN_USE', async () => {
    const dest = tcpDestination('ECHO', `127.0.0.1:${echo.port}`)
    await expect(openLocalPort(dest, { host: '0.0.0.0' })).rejects.toThrow(RangeError)
    await expect(openLocalPort(dest, { port: 70000 })).rejects.toThrow(RangeError)
    const first = await openLocalPort(dest)
    await expect(openLocalPort(dest, { port: first.port })).rejects.toMatchObject({ code: 'PORT_IN_USE' })
    await first.close()
  })

  it('fails fast for unknown or non-TCP destinations', async () => {
    const http = parseDestination({ Name: 'WEB', Type: 'HTTP', URL: 'http://127.0.0.1:1' })
    await expect(openLocalPort(http)).rejects.toMatchObject({ code: 'DESTINATION_INVALID' })
    await expect(openLocalPort('NO_SUCH_DESTINATION_XYZ')).rejects.toMatchObject({
      code: 'DESTINATION_NOT_FOUND',
    })
  })
})

describe('openLocalPort — OnPremise through SOCKS5', () => {
  let echo: TestServer
  let env: OnPremiseEnv
  beforeAll(async () => {
    echo = await startEcho()
    env = await startOnPremiseEnv({ '': { 'cache.virtual:6379': echo.port } })
  })
  afterAll(async () => {
    await env.close()
    await echo.close()
  })

  it('carries parallel connections through the connectivity proxy', async () => {
    const dest = parseDestination({
      Name: 'CACHE',
      Type: 'TCP',
      Address: 'cache.virtual:6379',
      ProxyType: 'OnPremise',
    })
    const local = await openLocalPort(dest)
    const out = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const socket = await connect(local.port)
        const payload = randomBytes(64 * 1024 + i)
        const back = await echoExact(socket, payload)
        socket.destroy()
        return sha256(back) === sha256(payload)
      }),
    )
    expect(out).toEqual(Array(8).fill(true))
    expect(
      env.proxy.records.filter((r) => r.kind === 'socks5' && r.target === 'cache.virtual:6379'),
    ).toHaveLength(8)
    await local.close()
  })
})
