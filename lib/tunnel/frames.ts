/**
 * Tunnel wire format: one frame per binary WebSocket message. Layout and rules are documented in
 * docs/tunnel-protocol.md; this file is the single source of the byte layout.
 *
 *   0      1      2              6
 *   +------+------+--------------+----------------+
 *   | ver  | type | stream id    | payload …      |
 *   | u8=1 | u8   | u32 BE       |                |
 *   +------+------+--------------+----------------+
 *
 * Decoding (which never throws) is in frame-decode.ts.
 */

/** Protocol version carried in every frame. */
export const PROTOCOL_VERSION = 1
/** WebSocket subprotocol announced on the upgrade. */
export const SUBPROTOCOL = 'cap-connectivity-tunnel.v1'
export const HEADER_SIZE = 6

export const FrameType = {
  OPEN: 0x01,
  OPEN_OK: 0x02,
  OPEN_FAIL: 0x03,
  DATA: 0x04,
  WINDOW_UPDATE: 0x05,
  FIN: 0x06,
  RST: 0x07,
  PING: 0x08,
  PONG: 0x09,
  GOAWAY: 0x0a,
  ANNOUNCE: 0x0b,
} as const
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType]

/** Hard limits the decoder enforces (independent of negotiated windows). */
export const LIMITS = {
  maxHost: 255,
  maxLocation: 255,
  maxMetadata: 16 * 1024,
  maxMessage: 512,
  maxAnnounce: 64 * 1024,
  maxData: 1024 * 1024,
  maxWindow: 0x7fffffff,
} as const

/** What a target host may look like on the wire (names, IPv4, IPv6 with or without brackets). */
export const HOST_PATTERN = /^[A-Za-z0-9._:[\]-]+$/

export type StreamKind = 'tcp' | 'http'
const KIND_CODES: Record<StreamKind, number> = { tcp: 1, http: 2 }

/** Small string-valued metadata on OPEN, e.g. `{ principal: <user JWT> }`. Never logged. */
export type OpenMetadata = Readonly<Record<string, string>>

export interface OpenFrame {
  type: typeof FrameType.OPEN
  streamId: number
  kind: StreamKind
  /** The opener's receive window for this stream (bytes the acceptor may send before a WINDOW_UPDATE). */
  window: number
  host: string
  port: number
  locationId: string
  metadata: OpenMetadata
}
export interface OpenOkFrame {
  type: typeof FrameType.OPEN_OK
  streamId: number
  window: number
}
export interface CodeFrame {
  type: typeof FrameType.OPEN_FAIL | typeof FrameType.RST
  streamId: number
  code: number
  message: string
}
export interface DataFrame {
  type: typeof FrameType.DATA
  streamId: number
  data: Buffer
}
export interface WindowUpdateFrame {
  type: typeof FrameType.WINDOW_UPDATE
  streamId: number
  increment: number
}
export interface FinFrame {
  type: typeof FrameType.FIN
  streamId: number
}
export interface PingFrame {
  type: typeof FrameType.PING | typeof FrameType.PONG
  streamId: 0
  payload: Buffer
}
export interface GoawayFrame {
  type: typeof FrameType.GOAWAY
  streamId: 0
  code: number
  lastStreamId: number
  message: string
}
export interface AnnounceFrame {
  type: typeof FrameType.ANNOUNCE
  streamId: 0
  body: unknown
}
export type Frame =
  | OpenFrame
  | OpenOkFrame
  | CodeFrame
  | DataFrame
  | WindowUpdateFrame
  | FinFrame
  | PingFrame
  | GoawayFrame
  | AnnounceFrame

export interface DecodeFailure {
  type: 'invalid'
  reason: string
}

// Frames are cut from 1 MiB slabs: one allocation per ~30 DATA frames instead of one each (a
// fresh ArrayBuffer per frame showed up as allocation + GC time in profiles). A slab lives as long
// as a frame cut from it is still queued, which the session's send high-water mark bounds.
const SLAB_SIZE = 1024 * 1024
let slab = Buffer.allocUnsafe(SLAB_SIZE)
let slabOffset = 0

function alloc(size: number): Buffer {
  if (size > 64 * 1024) return Buffer.allocUnsafe(size)
  if (slabOffset + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafe(SLAB_SIZE)
    slabOffset = 0
  }
  const buf = slab.subarray(slabOffset, slabOffset + size)
  slabOffset = (slabOffset + size + 7) & ~7
  return buf
}

function header(size: number, type: number, streamId: number): Buffer {
  const buf = alloc(HEADER_SIZE + size)
  buf[0] = PROTOCOL_VERSION
  buf[1] = type
  buf.writeUInt32BE(streamId, 2)
  return buf
}

function clip(text: string, max: number): Buffer {
  const b = Buffer.from(text, 'utf8')
  return b.length <= max ? b : b.subarray(0, max)
}

/** Encodes OPEN. Throws RangeError when a field exceeds its limit (a caller bug, not peer input). */
export function encodeOpen(f: Omit<OpenFrame, 'type'>): Buffer {
  const host = Buffer.from(f.host, 'utf8')
  const loc = Buffer.from(f.locationId, 'utf8')
  const meta = Object.keys(f.metadata).length
    ? Buffer.from(JSON.stringify(f.metadata), 'utf8')
    : Buffer.alloc(0)
  if (host.length === 0 || host.length > LIMITS.maxHost)
    throw new RangeError('OPEN host must be 1..255 bytes')
  if (!HOST_PATTERN.test(f.host)) throw new RangeError('OPEN host must be a host name or IP address')
  if (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535)
    throw new RangeError('OPEN port must be 1..65535')
  if (loc.length > LIMITS.maxLocation) throw new RangeError('OPEN locationId must be at most 255 bytes')
  if (meta.length > LIMITS.maxMetadata) throw new RangeError('OPEN metadata must be at most 16 KiB')
  const buf = header(
    1 + 4 + 2 + 1 + host.length + 1 + loc.length + 2 + meta.length,
    FrameType.OPEN,
    f.streamId,
  )
  let o = HEADER_SIZE
  buf[o++] = KIND_CODES[f.kind]
  o = buf.writeUInt32BE(f.window, o)
  o = buf.writeUInt16BE(f.port, o)
  buf[o++] = host.length
  o += host.copy(buf, o)
  buf[o++] = loc.length
  o += loc.copy(buf, o)
  o = buf.writeUInt16BE(meta.length, o)
  meta.copy(buf, o)
  return buf
}

export function encodeOpenOk(streamId: number, window: number): Buffer {
  const buf = header(4, FrameType.OPEN_OK, streamId)
  buf.writeUInt32BE(window, HEADER_SIZE)
  return buf
}

/** OPEN_FAIL and RST share a layout: u16 reason code + UTF-8 message (≤ 512 bytes, clipped). */
export function encodeCode(
  type: typeof FrameType.OPEN_FAIL | typeof FrameType.RST,
  streamId: number,
  code: number,
  message = '',
): Buffer {
  const msg = clip(message, LIMITS.maxMessage)
  const buf = header(2 + msg.length, type, streamId)
  buf.writeUInt16BE(code, HEADER_SIZE)
  msg.copy(buf, HEADER_SIZE + 2)
  return buf
}

/**
 * An empty DATA frame of `size` payload bytes with its header written; the caller copies the
 * payload to offset {@link HEADER_SIZE} (lets a sender gather several queued chunks into one frame).
 */
export function allocData(streamId: number, size: number): Buffer {
  return header(size, FrameType.DATA, streamId)
}

/** Writes a DATA header for `streamId` at the start of `buf` (a frame buffer the caller owns). */
export function writeDataHeader(buf: Buffer, streamId: number): void {
  buf[0] = PROTOCOL_VERSION
  buf[1] = FrameType.DATA
  buf.writeUInt32BE(streamId, 2)
}

/** DATA frame for `chunk[start, end)` — one copy into the frame buffer. */
export function encodeData(streamId: number, chunk: Buffer, start = 0, end = chunk.length): Buffer {
  const buf = header(end - start, FrameType.DATA, streamId)
  chunk.copy(buf, HEADER_SIZE, start, end)
  return buf
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const buf = header(4, FrameType.WINDOW_UPDATE, streamId)
  buf.writeUInt32BE(increment, HEADER_SIZE)
  return buf
}

export function encodeFin(streamId: number): Buffer {
  return header(0, FrameType.FIN, streamId)
}

export function encodePing(type: typeof FrameType.PING | typeof FrameType.PONG, payload: Buffer): Buffer {
  const buf = header(8, type, 0)
  payload.copy(buf, HEADER_SIZE, 0, 8)
  return buf
}

export function encodeGoaway(code: number, lastStreamId: number, message = ''): Buffer {
  const msg = clip(message, LIMITS.maxMessage)
  const buf = header(6 + msg.length, FrameType.GOAWAY, 0)
  buf.writeUInt16BE(code, HEADER_SIZE)
  buf.writeUInt32BE(lastStreamId, HEADER_SIZE + 2)
  msg.copy(buf, HEADER_SIZE + 6)
  return buf
}

export function encodeAnnounce(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8')
  if (json.length > LIMITS.maxAnnounce) throw new RangeError('ANNOUNCE body must be at most 64 KiB')
  const buf = header(json.length, FrameType.ANNOUNCE, 0)
  json.copy(buf, HEADER_SIZE)
  return buf
}
