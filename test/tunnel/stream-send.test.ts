/** The send queue of a stream (lib/tunnel/stream-send.ts): framing, in-place relay, credit and drain order. */
import { describe, expect, it } from 'vitest'
import { encodeData, FrameType, HEADER_SIZE } from '../../lib/tunnel/frames'
import { decodeFrame } from '../../lib/tunnel/frame-decode'
import { SendQueue } from '../../lib/tunnel/stream-send'

/** A received DATA payload as the session hands it on: a view right behind its own frame header. */
function received(streamId: number, text: string): Buffer {
  return encodeData(streamId, Buffer.from(text)).subarray(HEADER_SIZE)
}

function payloadOf(frame: Buffer): { streamId: number; text: string } {
  const f = decodeFrame(frame)
  if (f.type !== FrameType.DATA) throw new Error(`not DATA: ${JSON.stringify(f)}`)
  return { streamId: f.streamId, text: f.data.toString() }
}

describe('SendQueue', () => {
  it('gathers a written batch into frames of at most max bytes; the write callback runs with the last one', () => {
    const q = new SendQueue()
    let called = 0
    q.batch([Buffer.from('hello '), Buffer.from('world')], 11, () => called++)
    const a = q.take(3, 8)
    expect(a && payloadOf(a.frame)).toEqual({ streamId: 3, text: 'hello wo' })
    expect(a?.done).toBeNull()
    const b = q.take(3, 8)
    expect(b && payloadOf(b.frame)).toEqual({ streamId: 3, text: 'rld' })
    b?.done?.()
    expect(called).toBe(1)
    expect(q.take(3, 8)).toBeUndefined()
  })

  it('sends a whole relayed payload from the buffer it arrived in, with the new stream id', () => {
    const q = new SendQueue()
    const data = received(7, 'relayed bytes')
    q.relay(data, true, () => undefined)
    const f = q.take(42, 1024)
    expect(f?.frame.buffer).toBe(data.buffer)
    expect(f?.frame.byteOffset).toBe(data.byteOffset - HEADER_SIZE)
    expect(f && payloadOf(f.frame)).toEqual({ streamId: 42, text: 'relayed bytes' })
  })

  it('copies a relayed payload that does not fit one frame, and never writes before its header', () => {
    const q = new SendQueue()
    const data = received(7, 'abcdefgh')
    const before = Buffer.from(data.buffer, data.byteOffset - HEADER_SIZE, HEADER_SIZE + data.length)
    const snapshot = Buffer.from(before)
    q.relay(data, true, () => undefined)
    const a = q.take(9, 5)
    const b = q.take(9, 5)
    expect([a && payloadOf(a.frame).text, b && payloadOf(b.frame).text]).toEqual(['abcde', 'fgh'])
    expect(before.equals(snapshot)).toBe(true)
  })

  it('returns credit only for relayed bytes, not for bytes whose credit was returned before the join', () => {
    const q = new SendQueue()
    const credited: number[] = []
    q.relay(Buffer.from('early'), false, null)
    q.relay(received(1, 'later'), true, (n) => credited.push(n))
    const first = q.take(2, 3)
    expect(first && payloadOf(first.frame).text).toBe('ear')
    expect(credited).toEqual([])
    // One frame gathers the last 2 early bytes and the 5 relayed ones: credit only for those 5.
    const rest = q.take(2, 100)
    expect(rest && payloadOf(rest.frame).text).toBe('lylater')
    expect(credited).toEqual([5])
  })

  it('runs a FIN that waited for queued bytes right after the last of them, not before', () => {
    const q = new SendQueue()
    const order: string[] = []
    expect(q.whenDrained(() => order.push('fin'))).toBe(false)
    q.relay(received(1, 'data'), true, () => undefined)
    expect(q.whenDrained(() => order.push('fin'))).toBe(true)
    const f = q.take(1, 2)
    expect(f?.done).toBeNull()
    order.push('frame 1')
    const g = q.take(1, 100)
    order.push('frame 2')
    g?.done?.()
    expect(order).toEqual(['frame 1', 'frame 2', 'fin'])
  })

  it('clear() drops the queue and hands back the waiting write callback', () => {
    const q = new SendQueue()
    const cb = (): void => undefined
    q.batch([Buffer.from('x')], 1, cb)
    expect(q.clear()).toBe(cb)
    expect(q.bytes).toBe(0)
    expect(q.take(1, 10)).toBeUndefined()
  })
})
