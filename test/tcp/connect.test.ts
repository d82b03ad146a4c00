import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { connectTcp } from '../../lib/tcp/connect'
import { TcpStream } from '../../lib/tcp/tcp-stream'
import {
  CONNECTIVITY_SECRET,
  echoExact,
  type OnPremiseEnv,
  roundTrip,
  sha256,
  startEcho,
  startOnPremiseEnv,
  type TestServer,
  tcpDestination,
} from './helpers'
import { closedPort, listenLoopback } from '../fixtures/net'

const onPrem = (name: string, address: string, extra: Record<string, string> = {}) =>
  parseDestination({ Name: name, Type: 'TCP', Address: address, ProxyType: 'OnPremise', ...extra })

describe('connectTcp — direct route', () => {
  let echo: TestServer
  beforeAll(async () => {
    echo = await startEcho()
  })
  afterAll(() => echo.close())

  it('connects to the Address and carries bytes both ways with half-close', async () => {
    const stream = await connectTcp(tcpDestination('ECHO', `127.0.0.1:${echo.port}`))
    expect(stream).toBeInstanceOf(TcpStream)
    expect(stream.route).toBe('direct')
    const payload = randomBytes(300_000)
    const back = await roundTrip(stream, payload)
    expect(sha256(back)).toBe(sha256(payload))
  })

  it('accepts tcp:// addresses and returns a stream a data-only driver can use right away', async () => {
    const stream = await connectTcp(tcpDestination('ECHO', `tcp://127.0.0.1:${echo.port}`))
    // A driver that only attaches 'data' after some delay must still get every byte.
    stream.write('ping')
    await new Promise((r) => setTimeout(r, 30))
    const got = await new Promise<string>((resolve) =>
      stream.once('data', (c: Buffer) => resolve(c.toString())),
    )
    expect(got).toBe('ping')
    expect(stream.readableFlowing).toBe(true)
    stream.destroy()
  })

  it("emits 'connect' when a driver calls connect() on the given stream (pg's stream option)", async () => {
    const stream = await connectTcp(tcpDestination('ECHO', `127.0.0.1:${echo.port}`))
    const connected = once(stream, 'connect')
    expect(stream.connect(5432, 'ignored')).toBe(stream)
    await connected
    stream.setNoDelay(true).setKeepAlive(true, 1000)
    stream.destroy()
  })

  it('applies tcp.timeout as idle timeout (TCP_TIMEOUT) and setTimeout emits timeout like a socket', async () => {
    const stream = await connectTcp(
      tcpDestination('IDLE', `127.0.0.1:${echo.port}`, { 'tcp.timeout': '150' }),
    )
    const timedOut = once(stream, 'timeout')
    stream.setTimeout(50)
    await timedOut
    const [err] = await once(stream, 'error')
    expect(err).toMatchObject({ code: 'TCP_TIMEOUT', message: expect.stringContaining('"IDLE"') })
  })

  it('fails with CONNECT_FAILED naming destination, target and route', async () => {
    const port = await closedPort()
    await expect(connectTcp(tcpDestination('DOWN', `127.0.0.1:${port}`))).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringMatching(
        new RegExp(`127\\.0\\.0\\.1:${port} of destination "DOWN" \\(route direct\\)`),
      ),
      details: expect.objectContaining({ destination: 'DOWN', route: 'direct', requestSent: false }),
    })
  })

  it('rejects non-TCP destinations and bad options', async () => {
    const http = parseDestination({
      Name: 'WEB',
      Type: 'HTTP',
      URL: 'http://127.0.0.1:1',
      ProxyType: 'Internet',
    })
    await expect(connectTcp(http)).rejects.toMatchObject({
      code: 'DESTINATION_INVALID',
      message: expect.stringContaining('Type HTTP'),
    })
    await expect(connectTcp(tcpDestination('X', '127.0.0.1:1'), { timeout: -1 })).rejects.toThrow(RangeError)
    await expect(
      connectTcp(tcpDestination('X', '127.0.0.1:1'), { jwt: 42 as unknown as string }),
    ).rejects.toThrow(TypeError)
  })

  it('rejects with REQUEST_ABORTED when the signal is already aborted', async () => {
    await expect(
      connectTcp(tcpDestination('ECHO', `127.0.0.1:${echo.port}`), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: 'REQUEST_ABORTED',
    })
  })
})

describe('connectTcp — OnPremise through the SOCKS5 0x80 connectivity proxy', () => {
  let echo: TestServer
  let env: OnPremiseEnv
  beforeAll(async () => {
    echo = await startEcho()
    env = await startOnPremiseEnv({
      '': { 'db.virtual:5432': echo.port },
      LOC_B: { 'db.virtual:5432': echo.port },
    })
  })
  afterAll(async () => {
    await env.close()
    await echo.close()
  })

  it('authenticates with the binding token and the location id, then carries bytes', async () => {
    const stream = await connectTcp(
      onPrem('ONPREM_DB', 'db.virtual:5432', { CloudConnectorLocationId: 'LOC_B' }),
    )
    expect(stream.route).toBe('socks5')
    const payload = randomBytes(200_000)
    // The connectivity proxy (like many SOCKS servers) closes on the client's FIN: no half-close here.
    expect(sha256(await echoExact(stream, payload))).toBe(sha256(payload))
    stream.destroy()
    const rec = env.proxy.records.at(-1)
    expect(rec).toMatchObject({ kind: 'socks5', target: 'db.virtual:5432', locationId: 'LOC_B' })
    expect(env.xsuaa.issued.has(rec?.proxyToken ?? '')).toBe(true)
  })

  it('hands over a flowing-ready stream after the handshake (a data-only driver attaching late gets every byte)', async () => {
    const stream = await connectTcp(onPrem('ONPREM_DB', 'db.virtual:5432'))
    stream.write('hello after handshake')
    await new Promise((r) => setTimeout(r, 50))
    let got = ''
    await new Promise<void>((resolve) =>
      stream.on('data', (c: Buffer) => {
        got += c.toString()
        if (got.length >= 21) resolve()
      }),
    )
    expect(got).toBe('hello after handshake')
    stream.destroy()
  })

  it('maps SOCKS replies: unmapped host → ACCESS_DENIED, unknown location → NO_AGENT', async () => {
    await expect(connectTcp(onPrem('NOT_MAPPED', 'other.virtual:1'))).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('destination "NOT_MAPPED" (route socks5)'),
    })
    await expect(
      connectTcp(onPrem('NO_CC', 'db.virtual:5432', { CloudConnectorLocationId: 'NOWHERE' })),
    ).rejects.toMatchObject({
      code: 'NO_AGENT',
      details: expect.objectContaining({ route: 'socks5', requestSent: false }),
    })
  })

  it('resolves only after the CONNECT reply: a proxy that never answers gives CONNECT_TIMEOUT', async () => {
    const silent = net.createServer((s) => s.on('error', () => undefined))
    await listenLoopback(silent)
    const vcap = JSON.parse(process.env.VCAP_SERVICES as string)
    const saved = process.env.VCAP_SERVICES
    vcap.connectivity[0].credentials.onpremise_socks5_proxy_port = String(
      (silent.address() as net.AddressInfo).port,
    )
    process.env.VCAP_SERVICES = JSON.stringify(vcap)
    try {
      const started = Date.now()
      await expect(connectTcp(onPrem('SLOW', 'db.virtual:5432'), { timeout: 300 })).rejects.toMatchObject({
        code: 'CONNECT_TIMEOUT',
      })
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      process.env.VCAP_SERVICES = saved
      silent.close()
    }
  })

  it('never puts the binding secret or a token into error messages', async () => {
    const err = (await connectTcp(onPrem('NOT_MAPPED', 'other.virtual:1')).catch((e: Error) => e)) as Error
    const text = JSON.stringify({ m: err.message, d: (err as { details?: unknown }).details })
    expect(text).not.toContain(CONNECTIVITY_SECRET)
    for (const token of env.xsuaa.issued) expect(text).not.toContain(token)
  })
})
