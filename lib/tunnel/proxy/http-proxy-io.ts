/** Request/response helpers of the HTTP connectivity proxy: one forward's data, answers, body buffering. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ProxyCaller } from './types'
import { proxyStatus } from '../proxy-status'

/** Response headers that belong to one hop and are not passed on to the client. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
])

/** One request being forwarded to a backend through an agent. */
export interface Forward {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly caller: ProxyCaller
  readonly target: { host: string; port: number }
  readonly hostHeader: string
  readonly path: string
  readonly locationId: string
  readonly principal: string | undefined
  readonly body: Buffer | undefined
  readonly signal: AbortSignal
}

/** The plain-text message of an error answer, naming target and location (never a token). */
export function messageFor(status: number, fwd: Forward): string {
  const where = `${fwd.target.host}:${fwd.target.port} (location "${fwd.locationId}")`
  switch (status) {
    case 403:
      return `Access to ${where}${fwd.path.split('?')[0]} is not allowed by the agent`
    case 503:
      return `No agent is connected for ${where}`
    case 400:
      return `Request to ${where} refused`
    default:
      return `Backend ${where} is unreachable from the agent`
  }
}

/** First value of a request header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Answers with a short plain-text status message, or drops the connection when the head is already out. */
export function respond(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(message) + 1,
    'proxy-status': proxyStatus('cap-connectivity-proxy', status),
  })
  res.end(`${message}\n`)
}

/** Reads the body fully when it fits into `limit`; null means "too big, stream it instead". */
export async function bufferBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return null
  // A chunked body of unknown size is streamed (and therefore not retried): reading it to find
  // out would consume what we could no longer send.
  if (declared === undefined) return req.headers['transfer-encoding'] === undefined ? Buffer.alloc(0) : null
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
