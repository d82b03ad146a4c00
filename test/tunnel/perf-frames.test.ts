import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import {
  encodeOpen,
  encodeWindowUpdate,
  FrameType,
  type OpenFrame,
  SUBPROTOCOL,
} from '../../lib/tunnel/frames'
import { decodeFrame } from '../../lib/tunnel/frame-decode'
import { type IncomingOpen, TunnelSession } from '../../lib/tunnel/session'
import { waitFor } from './helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/**
 * A TunnelSession (acceptor, sending) facing a raw WebSocket that records every DATA frame and
 * grants generous credit, so frame sizes are decided by the sender's scheduling alone.
 */
async function sendingSession() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const sessionP = new Promise<TunnelSession>((resolve) =>
    wss.once('connection', (ws) => resolve(new TunnelSession(ws, { initiator: false }))),
  )
  const raw = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBPROTOCOL)
  const data = new Map<number, Buffer[]>()
  raw.on('message', (d: Buffer) => {
    const f = decodeFrame(d)
    if (f.type === FrameType.DATA) {
      const list = data.get(f.streamId) ?? []
      list.push(Buffer.from(f.data))
      data.set(f.streamId, list)
      // Return the credit at once: this peer is an infinitely fast reader.
      raw.send(encodeWindowUpdate(f.streamId, f.data.length))
      raw.send(encodeWindowUpdate(0, f.data.length))
    }
  })
  await new Promise<void>((r) => raw.once('open', () => r()))
  const session = await sessionP
  cleanups.push(async () => {
    raw.terminate()
    session.destroy()
    await new Promise<void>((r) => wss.close(() => r()))
  })
  const open = (id: number): Promise<IncomingOpen> => {
    const got = new Promise<IncomingOpen>((resolve) => session.once('open', resolve))
    const f: Omit<OpenFrame, 'type'> = {
      streamId: id,
      kind: 'tcp',
      window: 8 * 1024 * 1024,
      host: 'peer',
      port: 1,
      locationId: '',
      metadata: {},
    }
    raw.send(encodeOpen(f))
    return got
  }
  return { raw, session, data, open }
}

const bytes = (list: Buffer[] | undefined): number => (list ?? []).reduce((n, b) => n + b.length, 0)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('tunnel send path: frame sizes', () => {
  it('a stream alone gathers queued writes into frames larger than maxFrameData, byte-exact', async () => {
    const { session, data, open } = await sendingSession()
    const stream = (await open(1)).accept()
    const payload = randomBytes(4 * 1024 * 1024)
    // Many small writes, as a TCP socket delivers them: they must be gathered, not sent one frame each.
    for (let o = 0; o < payload.length; o += 16 * 1024) stream.write(payload.subarray(o, o + 16 * 1024))
    await waitFor(() => bytes(data.get(1)) === payload.length, 10_000, 'all DATA')
    const frames = data.get(1) ?? []
    expect(sha(Buffer.concat(frames))).toBe(sha(payload))
    expect(Math.max(...frames.map((f) => f.length))).toBeGreaterThan(session.maxFrameData)
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(256 * 1024)
    expect(frames.length).toBeLessThan(payload.length / (16 * 1024))
  })

  it('with two streams sending at once, frames stay at maxFrameData (fair interleaving)', async () => {
    const { session, data, open } = await sendingSession()
    const a = (await open(1)).accept()
    const b = (await open(3)).accept()
    const pa = randomBytes(1024 * 1024)
    const pb = randomBytes(1024 * 1024)
    // Queue both before the sender runs (it flushes a microtask later), so both are on the ring.
    a.write(pa)
    b.write(pb)
    await waitFor(() => bytes(data.get(1)) === pa.length && bytes(data.get(3)) === pb.length, 10_000, 'DATA')
    expect(sha(Buffer.concat(data.get(1) ?? []))).toBe(sha(pa))
    expect(sha(Buffer.concat(data.get(3) ?? []))).toBe(sha(pb))
    // While both had data, no frame exceeded maxFrameData; only the tail of the last one may be larger.
    const firstA = (data.get(1) ?? []).slice(0, 8)
    const firstB = (data.get(3) ?? []).slice(0, 8)
    for (const f of [...firstA, ...firstB]) expect(f.length).toBeLessThanOrEqual(session.maxFrameData)
  })
})
