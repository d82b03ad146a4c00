/**
 * The session reads WebSocket frames off the socket itself (lib/tunnel/ws-reader.ts). These tests
 * drive it with hand-built frames written straight onto a real loopback socket: split at every
 * kind of boundary, fragmented, interleaved with pings, and broken in the ways RFC 6455 forbids.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { encodeData, encodeFin, HEADER_SIZE, SUBPROTOCOL } from '../../lib/tunnel/frames'
import { type IncomingOpen, TunnelSession } from '../../lib/tunnel/session'
import type { TunnelStream } from '../../lib/tunnel/stream'
import { tcpOpen, waitFor } from './helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

type MaskKind = 'random' | 'zero' | 'none'

/** One WebSocket frame, built by hand (RFC 6455 §5.2). */
function wsFrame(
  opcode: number,
  payload: Buffer,
  {
    fin = true,
    mask = 'random' as MaskKind,
    rsv = 0,
    declared,
  }: { fin?: boolean; mask?: MaskKind; rsv?: number; declared?: number } = {},
): Buffer {
  const len = declared ?? payload.length
  const ext = len > 65535 ? 8 : len > 125 ? 2 : 0
  const head = Buffer.alloc(2 + ext + (mask === 'none' ? 0 : 4))
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode
  head[1] = (mask === 'none' ? 0 : 0x80) | (ext === 8 ? 127 : ext === 2 ? 126 : len)
  if (ext === 2) head.writeUInt16BE(len, 2)
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2)
  if (mask === 'none') return Buffer.concat([head, payload])
  const key = mask === 'zero' ? Buffer.alloc(4) : randomBytes(4)
  key.copy(head, 2 + ext)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number)
  return Buffer.concat([head, body])
}

/** Writes `bytes` in pieces of 1…`max` bytes, yielding between writes so they arrive as separate reads. */
async function trickle(socket: Socket, bytes: Buffer, max: number): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(Math.random() * max)
    socket.write(bytes.subarray(at, at + n))
    at += n
    await new Promise((r) => setImmediate(r))
  }
}

/** An acceptor session facing a ws client whose socket we write raw frames to. */
async function rawClient() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const sessionP = new Promise<TunnelSession>((resolve) =>
    wss.once('connection', (ws) => resolve(new TunnelSession(ws, { initiator: false }))),
  )
  const raw = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBPROTOCOL)
  await new Promise<void>((r) => raw.once('open', () => r()))
  const session = await sessionP
  const socket = (raw as unknown as { _socket: Socket })._socket
  const closed = new Promise<{ code: number }>((resolve) => raw.once('close', (code) => resolve({ code })))
  const streams: TunnelStream[] = []
  session.on('open', (inc: IncomingOpen) => {
    const s = inc.accept()
    s.on('error', () => undefined)
    streams.push(s)
  })
  cleanups.push(async () => {
    raw.terminate()
    session.destroy()
    await new Promise<void>((r) => wss.close(() => r()))
  })
  return { raw, socket, session, closed, streams }
}

function collect(stream: TunnelStream): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  return { bytes: () => Buffer.concat(chunks), ended: new Promise((r) => stream.once('end', () => r())) }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('ws-reader: frames read off the socket', () => {
  it('takes the socket over from ws on both sides of a session', async () => {
    const { session } = await rawClient()
    const socket = (session.ws as unknown as { _socket: Socket })._socket
    expect(socket.listeners('data').map((f) => f.name)).not.toContain('socketOnData')
  })

  for (const [mask, max] of [
    ['random', 1],
    ['random', 7],
    ['zero', 3],
    ['random', 4096],
  ] as const) {
    it(`reassembles frames split into reads of 1…${max} bytes (${mask} masking key)`, async () => {
      const { socket, streams } = await rawClient()
      const payload = randomBytes(max === 4096 ? 300_000 : 20_000)
      const frames = [tcpOpen(1, { window: 1 << 20 })]
      for (let at = 0; at < payload.length; at += 70_000)
        frames.push(encodeData(1, payload.subarray(at, at + 70_000)))
      frames.push(encodeFin(1))
      await trickle(socket, Buffer.concat(frames.map((f) => wsFrame(2, f, { mask }))), max)
      await waitFor(() => streams.length === 1)
      const got = collect(streams[0] as TunnelStream)
      await got.ended
      expect(sha(got.bytes())).toBe(sha(payload))
    })
  }

  it('joins fragmented messages and answers a ping sent between the fragments', async () => {
    const { raw, socket, streams } = await rawClient()
    const pong = new Promise<Buffer>((r) => raw.once('pong', (d: Buffer) => r(d)))
    const open = tcpOpen(1)
    const data = encodeData(1, Buffer.from('fragmented hello'))
    socket.write(
      Buffer.concat([
        wsFrame(2, open.subarray(0, 3), { fin: false }),
        wsFrame(0, open.subarray(3, 10), { fin: false }),
        wsFrame(9, Buffer.from('are you there')),
        wsFrame(0, Buffer.alloc(0), { fin: false }),
        wsFrame(0, open.subarray(10)),
        wsFrame(2, data.subarray(0, HEADER_SIZE + 4), { fin: false }),
        wsFrame(0, data.subarray(HEADER_SIZE + 4)),
        wsFrame(2, encodeFin(1)),
      ]),
    )
    expect((await pong).toString()).toBe('are you there')
    await waitFor(() => streams.length === 1)
    const got = collect(streams[0] as TunnelStream)
    await got.ended
    expect(got.bytes().toString()).toBe('fragmented hello')
  })

  it("falls back to ws's own messages when it cannot take the socket over", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((r) => wss.once('listening', () => r()))
    const serverP = new Promise<TunnelSession>((resolve) =>
      wss.once('connection', (ws) => {
        // Someone else also listens on the socket: the reader must not take it away from ws.
        ;(ws as unknown as { _socket: Socket })._socket.on('data', () => undefined)
        resolve(new TunnelSession(ws, { initiator: false }))
      }),
    )
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBPROTOCOL)
    const client = new TunnelSession(ws, { initiator: true })
    const server = await serverP
    cleanups.push(async () => {
      client.destroy()
      server.destroy()
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    })
    const serverSocket = (server.ws as unknown as { _socket: Socket })._socket
    expect(serverSocket.listeners('data').map((f) => f.name)).toContain('socketOnData')
    server.on('open', (inc: IncomingOpen) => {
      const s = inc.accept()
      s.on('error', () => undefined)
      s.pipe(s)
    })
    const stream = await client.openStream({ host: 'h', port: 1 })
    const payload = randomBytes(200_000)
    const got = collect(stream)
    stream.end(payload)
    await got.ended
    expect(sha(got.bytes())).toBe(sha(payload))
  })

  it('leaves the close handshake to ws', async () => {
    const { raw, session } = await rawClient()
    const sessionClosed = new Promise((r) => session.once('close', r))
    raw.close(1000, 'bye')
    await sessionClosed
    expect(session.closed).toBe(true)
  })

  const violations: [string, () => Buffer][] = [
    ['an unmasked frame from the client', () => wsFrame(2, tcpOpen(1), { mask: 'none' })],
    ['RSV bits without an extension', () => wsFrame(2, tcpOpen(1), { rsv: 4 })],
    ['a continuation without a message', () => wsFrame(0, tcpOpen(1))],
    [
      'a new message inside a fragmented one',
      () => Buffer.concat([wsFrame(2, Buffer.from([1]), { fin: false }), wsFrame(2, tcpOpen(1))]),
    ],
    ['a reserved opcode', () => wsFrame(3, tcpOpen(1))],
    ['a fragmented control frame', () => wsFrame(9, Buffer.from('x'), { fin: false })],
    ['a control frame over 125 bytes', () => wsFrame(10, Buffer.alloc(126))],
    [
      'a frame longer than the largest tunnel frame',
      () => wsFrame(2, Buffer.alloc(8), { declared: 2 ** 20 + 7 }),
    ],
    ['a frame length over 2^32', () => wsFrame(2, Buffer.alloc(8), { declared: 2 ** 33 })],
    [
      'an empty DATA frame',
      () => Buffer.concat([wsFrame(2, tcpOpen(1)), wsFrame(2, encodeData(1, Buffer.alloc(0)))]),
    ],
    ['DATA on stream 0', () => wsFrame(2, encodeData(0, Buffer.from('x')))],
    [
      'a non-DATA frame larger than any valid one',
      () => wsFrame(2, Buffer.concat([Buffer.from([1, 0x0b, 0, 0, 0, 0]), Buffer.alloc(70_000)])),
    ],
  ]
  for (const [name, bytes] of violations) {
    it(`closes with a protocol error on ${name}`, async () => {
      const { socket, session, closed } = await rawClient()
      socket.write(bytes())
      expect((await closed).code).toBe(1002)
      expect(session.closeInfo?.error?.code).toBe('TUNNEL_PROTOCOL_ERROR')
    })
  }

  it('fuzz: mutated frame streams never throw out of the reader; the session closes or carries on', async () => {
    // A valid sequence (OPEN, DATA, ping, FIN) with random bytes flipped, cut at random points.
    const valid = Buffer.concat([
      wsFrame(2, tcpOpen(1, { window: 1 << 16 })),
      wsFrame(2, encodeData(1, randomBytes(300))),
      wsFrame(9, Buffer.from('p')),
      wsFrame(2, encodeFin(1)),
    ])
    let closedByProtocol = 0
    for (let round = 0; round < 60; round++) {
      const { socket, session, closed } = await rawClient()
      const bytes = Buffer.from(valid)
      for (let i = 0; i < 1 + (round % 6); i++) {
        const at = Math.floor(Math.random() * bytes.length)
        bytes[at] = (bytes[at] as number) ^ (1 + Math.floor(Math.random() * 255))
      }
      await trickle(socket, bytes, 64)
      const outcome = await Promise.race([
        closed.then(({ code }) => code),
        new Promise<'open'>((r) => setTimeout(() => r('open'), 30)),
      ])
      if (outcome === 'open') expect(session.closed).toBe(false)
      else {
        expect([1000, 1001, 1002, 1006, 1009]).toContain(outcome)
        closedByProtocol++
      }
      socket.destroy()
    }
    // Most mutations break a rule; the point is that none of them escaped as an exception.
    expect(closedByProtocol).toBeGreaterThan(0)
  })

  it('a client session refuses a masked frame from the server', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((r) => wss.once('listening', () => r()))
    const serverSocket = new Promise<Socket>((resolve) =>
      wss.once('connection', (ws) => resolve((ws as unknown as { _socket: Socket })._socket)),
    )
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBPROTOCOL)
    const session = new TunnelSession(ws, { initiator: true })
    cleanups.push(async () => {
      session.destroy()
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    })
    const closed = new Promise((r) => session.once('close', r))
    ;(await serverSocket).write(wsFrame(2, encodeFin(1), { mask: 'random' }))
    await closed
    expect(session.closeInfo?.error?.code).toBe('TUNNEL_PROTOCOL_ERROR')
    expect(session.closeInfo?.reason).toContain('masked')
  })
})
