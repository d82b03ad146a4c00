/**
 * The tunnel server relays a client's stream and the agent stream serving it frame to frame
 * (lib/tunnel/relay.ts). These tests pin what the relay must keep from a plain pipe: bytes that
 * arrive before the join, half-close, resets both ways, and a bounded buffer for a slow reader.
 */
import net, { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { TunnelClient } from '../../lib/tunnel/client'
import type { TunnelSession } from '../../lib/tunnel/session'
import type { TunnelStream } from '../../lib/tunnel/stream'
import { listenLoopback } from '../fixtures/net'
import { readAll, roundTrip, type Stack, startStack, token, waitFor } from './helpers'

const BANNER = 'HELLO from a server-first protocol\r\n'

let stack: Stack
let client: TunnelClient
const serverSessions: TunnelSession[] = []
let banner: net.Server
let flood: net.Server
let floodBytes = 0
const backendSockets: net.Socket[] = []

beforeAll(async () => {
  // Writes its banner the moment it accepts (like a database or an SMTP server), then echoes.
  banner = net.createServer({ allowHalfOpen: true }, (s) => {
    backendSockets.push(s)
    s.on('error', () => undefined)
    s.write(BANNER)
    s.pipe(s)
  })
  // Sends as fast as the path takes it, until the peer goes away.
  flood = net.createServer((s) => {
    backendSockets.push(s)
    s.on('error', () => undefined)
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const pump = (): void => {
      while (!s.destroyed) {
        floodBytes += chunk.length
        if (!s.write(chunk)) return void s.once('drain', pump)
      }
    }
    pump()
  })
  await listenLoopback(banner)
  await listenLoopback(flood)
  const mapping = (host: string, server: net.Server) => ({
    protocol: 'TCP',
    virtualHost: host,
    virtualPort: 1,
    internalHost: '127.0.0.1',
    internalPort: (server.address() as AddressInfo).port,
  })
  stack = await startStack({
    locationId: '',
    mappings: [mapping('banner.virtual', banner), mapping('flood.virtual', flood)],
  })
  // Watch the server's sessions: a fresh agent replaces the one startStack connected before we listened.
  stack.server.on('session', (entry: { session: TunnelSession }) => serverSessions.push(entry.session))
  await stack.startAgent()
  await stack.agent.stop()
  await waitFor(() => stack.server.agents('acme').length === 1)
  client = new TunnelClient({ server: stack.url, token: token('dev', 'acme') })
  await client.connect()
})

afterAll(async () => {
  await client.close()
  await stack.close()
  for (const s of backendSockets) s.destroy()
  await new Promise((r) => banner.close(r))
  await new Promise((r) => flood.close(r))
})

describe('server relay between client and agent streams', () => {
  it('delivers bytes the backend sent before the join, then echoes and half-closes', async () => {
    const stream = await client.openStream({ host: 'banner.virtual', port: 1 })
    const all = readAll(stream)
    stream.end('ping')
    expect((await all).toString()).toBe(`${BANNER}ping`)
  })

  it('carries 8 MiB both ways with matching checksums', async () => {
    const stream = await client.openStream({ host: 'banner.virtual', port: 1 })
    // The banner comes first; drop it so the round trip compares only the echoed bytes.
    await new Promise<void>((r) => stream.once('readable', () => r()))
    const head = stream.read(BANNER.length) as Buffer
    expect(head.toString()).toBe(BANNER)
    const r = await roundTrip(stream, 8 * 1024 * 1024)
    expect(r.received).toBe(r.sent)
  })

  it('a backend reset reaches the client as STREAM_RESET', async () => {
    const stream = await client.openStream({ host: 'banner.virtual', port: 1 })
    const failed = new Promise<unknown>((resolve) => stream.once('error', resolve))
    await waitFor(() => backendSockets.some((s) => !s.destroyed))
    for (const s of backendSockets) s.resetAndDestroy()
    expect(hasErrorCode(await failed, 'STREAM_RESET')).toBe(true)
  })

  it('a slow reader: the server holds at most one stream window, and the bytes flow once it reads', async () => {
    const stream = (await client.openStream({ host: 'flood.virtual', port: 1 })) as TunnelStream
    stream.pause()
    await waitFor(() => floodBytes > 2 * 1024 * 1024)
    await new Promise((r) => setTimeout(r, 300))
    // What the relay holds: bytes from the agent queued for the client that does not read. They are
    // also the agent stream's unreturned credit, so both views must stay within one window.
    const queued = serverSessions.reduce((n, s) => n + s.bufferedOut, 0)
    const unreturned = serverSessions.reduce((n, s) => n + s.bufferedIn, 0)
    expect(queued).toBeGreaterThan(0)
    expect(queued).toBeLessThanOrEqual(512 * 1024)
    expect(unreturned).toBeLessThanOrEqual(512 * 1024)
    expect(stream.bufferedIn).toBeLessThanOrEqual(512 * 1024)
    let got = 0
    await new Promise<void>((resolve) => {
      stream.on('data', (d: Buffer) => {
        got += d.length
        if (got >= 16 * 1024 * 1024) resolve()
      })
      stream.resume()
    })
    const closed = backendSockets.filter((s) => !s.destroyed)
    stream.destroy()
    await waitFor(
      () => closed.every((s) => s.destroyed),
      3000,
      'backend socket closed after the client reset',
    )
  })
})
