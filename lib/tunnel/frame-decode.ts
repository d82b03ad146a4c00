/**
 * Decoding of tunnel frames (one frame per WebSocket message). Every length, id, code and string is
 * checked before anything is acted on; decoding never throws but returns a {@link DecodeFailure}
 * that the session turns into a protocol-error close. The byte layout itself lives in frames.ts.
 */
import {
  type CodeFrame,
  type DecodeFailure,
  type Frame,
  FrameType,
  HEADER_SIZE,
  HOST_PATTERN,
  LIMITS,
  type OpenFrame,
  type OpenMetadata,
  PROTOCOL_VERSION,
  type StreamKind,
} from './frames'

const fail = (reason: string): DecodeFailure => ({ type: 'invalid', reason })

/** Strict UTF-8: invalid sequences are a protocol error, not silently replaced. */
const utf8 = new TextDecoder('utf-8', { fatal: true })
function text(buf: Buffer): string | undefined {
  try {
    return utf8.decode(buf)
  } catch {
    return undefined
  }
}

function decodeOpen(buf: Buffer, streamId: number): OpenFrame | DecodeFailure {
  if (streamId === 0) return fail('OPEN on stream 0')
  let o = HEADER_SIZE
  if (buf.length < o + 8) return fail('OPEN too short')
  const kindCode = buf[o++]
  const kind: StreamKind | undefined = kindCode === 1 ? 'tcp' : kindCode === 2 ? 'http' : undefined
  if (!kind) return fail(`OPEN unknown kind ${kindCode}`)
  const window = buf.readUInt32BE(o)
  o += 4
  if (window === 0 || window > LIMITS.maxWindow) return fail('OPEN window out of range')
  const port = buf.readUInt16BE(o)
  o += 2
  if (port === 0) return fail('OPEN port 0')
  const hostLen = buf[o++] as number
  if (hostLen === 0 || buf.length < o + hostLen + 1) return fail('OPEN host length')
  const host = text(buf.subarray(o, o + hostLen))
  o += hostLen
  if (!host || !HOST_PATTERN.test(host)) return fail('OPEN host is not a host name or address')
  const locLen = buf[o++] as number
  if (buf.length < o + locLen + 2) return fail('OPEN location length')
  const locationId = text(buf.subarray(o, o + locLen))
  o += locLen
  if (locationId === undefined) return fail('OPEN location is not UTF-8')
  const metaLen = buf.readUInt16BE(o)
  o += 2
  if (metaLen > LIMITS.maxMetadata || buf.length !== o + metaLen) return fail('OPEN metadata length')
  let metadata: OpenMetadata = {}
  if (metaLen > 0) {
    const json = text(buf.subarray(o))
    let parsed: unknown
    try {
      parsed = json === undefined ? undefined : JSON.parse(json)
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return fail('OPEN metadata not an object')
    const entries = Object.entries(parsed as Record<string, unknown>)
    if (entries.some(([, v]) => typeof v !== 'string')) return fail('OPEN metadata values must be strings')
    metadata = Object.freeze(Object.fromEntries(entries) as Record<string, string>)
  }
  return { type: FrameType.OPEN, streamId, kind, window, host, port, locationId, metadata }
}

function decodeCodeFrame(
  buf: Buffer,
  type: typeof FrameType.OPEN_FAIL | typeof FrameType.RST,
  streamId: number,
): CodeFrame | DecodeFailure {
  if (streamId === 0) return fail('stream frame on stream 0')
  if (buf.length < HEADER_SIZE + 2 || buf.length > HEADER_SIZE + 2 + LIMITS.maxMessage)
    return fail('bad length')
  const message = text(buf.subarray(HEADER_SIZE + 2))
  if (message === undefined) return fail('message is not UTF-8')
  return { type, streamId, code: buf.readUInt16BE(HEADER_SIZE), message }
}

/** Decodes one frame (one WebSocket message). DATA payloads are views into `buf`, not copies. */
export function decodeFrame(buf: Buffer): Frame | DecodeFailure {
  if (buf.length < HEADER_SIZE) return fail('frame shorter than its header')
  if (buf[0] !== PROTOCOL_VERSION) return fail(`unsupported protocol version ${buf[0]}`)
  const type = buf[1]
  const streamId = buf.readUInt32BE(2)
  const size = buf.length - HEADER_SIZE
  switch (type) {
    case FrameType.DATA:
      if (streamId === 0) return fail('DATA on stream 0')
      if (size === 0 || size > LIMITS.maxData) return fail('DATA length out of range')
      return { type, streamId, data: buf.subarray(HEADER_SIZE) }
    case FrameType.OPEN:
      return decodeOpen(buf, streamId)
    case FrameType.OPEN_OK: {
      if (streamId === 0 || size !== 4) return fail('bad OPEN_OK')
      const window = buf.readUInt32BE(HEADER_SIZE)
      if (window === 0 || window > LIMITS.maxWindow) return fail('OPEN_OK window out of range')
      return { type, streamId, window }
    }
    case FrameType.OPEN_FAIL:
    case FrameType.RST:
      return decodeCodeFrame(buf, type, streamId)
    case FrameType.WINDOW_UPDATE: {
      if (size !== 4) return fail('bad WINDOW_UPDATE length')
      const increment = buf.readUInt32BE(HEADER_SIZE)
      if (increment === 0 || increment > LIMITS.maxWindow) return fail('WINDOW_UPDATE increment out of range')
      return { type, streamId, increment }
    }
    case FrameType.FIN:
      if (streamId === 0 || size !== 0) return fail('bad FIN')
      return { type, streamId }
    case FrameType.PING:
    case FrameType.PONG:
      if (streamId !== 0 || size !== 8) return fail('bad PING/PONG')
      return { type, streamId: 0, payload: buf.subarray(HEADER_SIZE) }
    case FrameType.GOAWAY: {
      if (streamId !== 0 || size < 6 || size > 6 + LIMITS.maxMessage) return fail('bad GOAWAY')
      const message = text(buf.subarray(HEADER_SIZE + 6))
      if (message === undefined) return fail('GOAWAY message is not UTF-8')
      return {
        type,
        streamId: 0,
        code: buf.readUInt16BE(HEADER_SIZE),
        lastStreamId: buf.readUInt32BE(HEADER_SIZE + 2),
        message,
      }
    }
    case FrameType.ANNOUNCE: {
      if (streamId !== 0 || size > LIMITS.maxAnnounce) return fail('bad ANNOUNCE')
      const json = text(buf.subarray(HEADER_SIZE))
      try {
        return { type, streamId: 0, body: json === undefined ? undefined : JSON.parse(json) }
      } catch {
        return fail('ANNOUNCE is not JSON')
      }
    }
    default:
      return fail(`unknown frame type ${type}`)
  }
}
