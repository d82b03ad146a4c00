import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  encodeAnnounce,
  encodeCode,
  encodeData,
  encodeFin,
  encodeGoaway,
  encodeOpen,
  encodeOpenOk,
  encodePing,
  encodeWindowUpdate,
  FrameType,
  HEADER_SIZE,
  PROTOCOL_VERSION,
} from '../../lib/tunnel/frames'
import { decodeFrame } from '../../lib/tunnel/frame-decode'
import { tcpOpen } from './helpers'

describe('tunnel frames: every type round-trips', () => {
  it('OPEN with metadata, location and http kind', () => {
    const buf = encodeOpen({
      streamId: 7,
      kind: 'http',
      window: 262144,
      host: 's4.virtual',
      port: 44300,
      locationId: 'orlando',
      metadata: { principal: 'a.b.c', caller: 'dev' },
    })
    expect(buf[0]).toBe(PROTOCOL_VERSION)
    expect(decodeFrame(buf)).toEqual({
      type: FrameType.OPEN,
      streamId: 7,
      kind: 'http',
      window: 262144,
      host: 's4.virtual',
      port: 44300,
      locationId: 'orlando',
      metadata: { principal: 'a.b.c', caller: 'dev' },
    })
  })

  it('OPEN without metadata and an IPv6 host', () => {
    const f = decodeFrame(tcpOpen(1, { host: '::1', port: 22 }))
    expect(f).toMatchObject({ type: FrameType.OPEN, host: '::1', port: 22, locationId: '', metadata: {} })
  })

  it('OPEN_OK, OPEN_FAIL, RST, DATA, WINDOW_UPDATE, FIN, PING, PONG, GOAWAY, ANNOUNCE', () => {
    expect(decodeFrame(encodeOpenOk(3, 4096))).toEqual({ type: FrameType.OPEN_OK, streamId: 3, window: 4096 })
    expect(decodeFrame(encodeCode(FrameType.OPEN_FAIL, 3, 6, 'denied'))).toEqual({
      type: FrameType.OPEN_FAIL,
      streamId: 3,
      code: 6,
      message: 'denied',
    })
    expect(decodeFrame(encodeCode(FrameType.RST, 4, 5))).toEqual({
      type: FrameType.RST,
      streamId: 4,
      code: 5,
      message: '',
    })
    const data = randomBytes(1000)
    const d = decodeFrame(encodeData(9, data, 100, 600))
    expect(d).toMatchObject({ type: FrameType.DATA, streamId: 9 })
    expect((d as { data: Buffer }).data.equals(data.subarray(100, 600))).toBe(true)
    expect(decodeFrame(encodeWindowUpdate(0, 65536))).toEqual({
      type: FrameType.WINDOW_UPDATE,
      streamId: 0,
      increment: 65536,
    })
    expect(decodeFrame(encodeFin(11))).toEqual({ type: FrameType.FIN, streamId: 11 })
    const p = Buffer.from('12345678')
    expect(decodeFrame(encodePing(FrameType.PING, p))).toMatchObject({ type: FrameType.PING, streamId: 0 })
    expect(decodeFrame(encodePing(FrameType.PONG, p))).toMatchObject({ type: FrameType.PONG, streamId: 0 })
    expect(decodeFrame(encodeGoaway(11, 42, 'bye'))).toEqual({
      type: FrameType.GOAWAY,
      streamId: 0,
      code: 11,
      lastStreamId: 42,
      message: 'bye',
    })
    expect(decodeFrame(encodeAnnounce({ mappings: [] }))).toEqual({
      type: FrameType.ANNOUNCE,
      streamId: 0,
      body: { mappings: [] },
    })
  })

  it('clips long messages instead of failing', () => {
    const f = decodeFrame(encodeCode(FrameType.RST, 1, 1, 'x'.repeat(2000)))
    expect((f as { message: string }).message.length).toBe(512)
  })

  it('rejects caller bugs on encode with RangeError', () => {
    expect(() =>
      encodeOpen({ streamId: 1, kind: 'tcp', window: 1, host: '', port: 1, locationId: '', metadata: {} }),
    ).toThrow(RangeError)
    expect(() =>
      encodeOpen({
        streamId: 1,
        kind: 'tcp',
        window: 1,
        host: 'h',
        port: 1,
        locationId: 'x'.repeat(300),
        metadata: {},
      }),
    ).toThrow(RangeError)
  })
})

describe('tunnel frames: invalid input is reported, never thrown', () => {
  const valid = tcpOpen()
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['short header', Buffer.from([1, 4, 0])],
    ['bad version', Buffer.from([2, 4, 0, 0, 0, 1, 9])],
    ['unknown type', Buffer.from([1, 0x7f, 0, 0, 0, 1])],
    ['DATA on stream 0', Buffer.from([1, 4, 0, 0, 0, 0, 9])],
    ['empty DATA', Buffer.from([1, 4, 0, 0, 0, 1])],
    ['OPEN on stream 0', Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0]), valid.subarray(HEADER_SIZE)])],
    ['OPEN truncated', valid.subarray(0, valid.length - 3)],
    ['OPEN trailing bytes', Buffer.concat([valid, Buffer.from([0])])],
    ['OPEN bad kind', Buffer.from(valid).fill(9, HEADER_SIZE, HEADER_SIZE + 1)],
    ['OPEN_OK window 0', encodeOpenOk(1, 1).fill(0, HEADER_SIZE)],
    ['WINDOW_UPDATE increment 0', encodeWindowUpdate(1, 1).fill(0, HEADER_SIZE)],
    ['WINDOW_UPDATE wrong length', Buffer.from([1, 5, 0, 0, 0, 1, 0, 1])],
    ['FIN with payload', Buffer.from([1, 6, 0, 0, 0, 1, 0])],
    ['FIN on stream 0', Buffer.from([1, 6, 0, 0, 0, 0])],
    ['PING on a stream', Buffer.concat([Buffer.from([1, 8, 0, 0, 0, 1]), Buffer.alloc(8)])],
    ['PING short', Buffer.from([1, 8, 0, 0, 0, 0, 1, 2])],
    ['RST invalid UTF-8', Buffer.from([1, 7, 0, 0, 0, 1, 0, 1, 0xff, 0xfe])],
    ['GOAWAY short', Buffer.from([1, 0x0a, 0, 0, 0, 0, 0])],
    ['ANNOUNCE not JSON', Buffer.from([1, 0x0b, 0, 0, 0, 0, 0x7b])],
  ]
  for (const [name, buf] of cases) {
    it(name, () => {
      const f = decodeFrame(buf)
      expect(f.type).toBe('invalid')
    })
  }

  it('OPEN metadata must be an object of strings', () => {
    const bad = tcpOpen(1, { metadata: { a: 'b' } })
    const json = Buffer.from('{"a":1}')
    const head = bad.subarray(0, bad.length - 2 - Buffer.byteLength('{"a":"b"}'))
    const len = Buffer.alloc(2)
    len.writeUInt16BE(json.length)
    expect(decodeFrame(Buffer.concat([head, len, json])).type).toBe('invalid')
  })

  it('OPEN host must look like a host (checked on encode and on decode)', () => {
    expect(() => tcpOpen(1, { host: 'a b' })).toThrow(RangeError)
    const f = tcpOpen(1, { host: 'a-b' })
    f[f.indexOf('a-b') + 1] = 0x20 // a peer that sends a space anyway
    expect(decodeFrame(f).type).toBe('invalid')
  })
})

describe('tunnel frames: fuzz', () => {
  const seeds = [
    encodeOpen({
      streamId: 5,
      kind: 'http',
      window: 4096,
      host: 's4.virtual',
      port: 443,
      locationId: 'loc',
      metadata: { principal: 'x' },
    }),
    encodeOpenOk(5, 4096),
    encodeCode(FrameType.RST, 5, 1, 'm'),
    encodeData(5, randomBytes(64)),
    encodeWindowUpdate(5, 10),
    encodeGoaway(0, 1, 'g'),
    encodeAnnounce({ mappings: [{ host: 'a', ports: [1, 2] }] }),
  ]

  it('random and mutated bytes never throw and finish quickly', () => {
    const start = Date.now()
    let invalid = 0
    let rounds = 0
    // Bounded in count and time: 30 000 inputs or 5 s, whichever first.
    for (let i = 0; i < 30_000 && Date.now() - start < 5_000; i++) {
      rounds++
      let input: Buffer
      if (i % 3 === 0) input = randomBytes(Math.floor(Math.random() * 80))
      else {
        const seed = seeds[i % seeds.length] as Buffer
        input = Buffer.from(seed)
        const flips = 1 + Math.floor(Math.random() * 4)
        for (let k = 0; k < flips; k++)
          input[Math.floor(Math.random() * input.length)] = Math.floor(Math.random() * 256)
        if (i % 7 === 0) input = input.subarray(0, Math.floor(Math.random() * input.length))
      }
      const f = decodeFrame(input)
      expect(typeof f.type).not.toBe('undefined')
      if (f.type === 'invalid') invalid++
    }
    expect(rounds).toBeGreaterThan(1000)
    expect(invalid).toBeGreaterThan(0)
  })
})
