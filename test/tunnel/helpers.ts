/** Loopback fixtures for the tunnel tests: session pairs, echo/HTTP backends, a server + agent stack. */
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import WebSocket, { WebSocketServer } from 'ws'
import { TunnelAgent } from '../../lib/tunnel/agent'
import { createDevToken } from '../../lib/tunnel/auth'
import { encodeOpen, type OpenFrame, SUBPROTOCOL } from '../../lib/tunnel/frames'
import { TunnelServer, type TunnelServerOptions } from '../../lib/tunnel/server'
import { type SessionOptions, TunnelSession } from '../../lib/tunnel/session'
import { listenLoopback } from '../fixtures/net'
import { waitUntil } from '../fixtures/wait'

export const SECRET = 'test-secret-0123456789abcdef'

export function token(
  subject: string,
  account: string,
  extra: Record<string, unknown> = {},
  ttlSeconds = 600,
): string {
  return createDevToken({ secret: SECRET, subject, account, ttlSeconds, claims: extra })
}

/** An OPEN frame for a TCP stream to h:1 with a 1 KiB window; `fields` override any part. */
export function tcpOpen(streamId = 1, fields: Partial<Omit<OpenFrame, 'type' | 'streamId'>> = {}): Buffer {
  return encodeOpen({
    streamId,
    kind: 'tcp',
    window: 1024,
    host: 'h',
    port: 1,
    locationId: '',
    metadata: {},
    ...fields,
  })
}

/** Two sessions joined by a real WebSocket on loopback. */
export async function sessionPair(
  clientOpts: Omit<SessionOptions, 'initiator'> = {},
  serverOpts: Omit<SessionOptions, 'initiator'> = {},
): Promise<{ client: TunnelSession; server: TunnelSession; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const serverSession = new Promise<TunnelSession>((resolve) =>
    wss.once('connection', (ws) => resolve(new TunnelSession(ws, { ...serverOpts, initiator: false }))),
  )
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBPROTOCOL)
  const client = new TunnelSession(ws, { ...clientOpts, initiator: true })
  await new Promise<void>((r) => ws.once('open', () => r()))
  const server = await serverSession
  return {
    client,
    server,
    close: async () => {
      client.destroy()
      server.destroy()
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    },
  }
}

/** TCP echo server (half-close aware: ends its side after the client's FIN). */
export async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
    s.pipe(s)
  })
  await listenLoopback(server)
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export interface SeenRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
}

/** HTTP backend that records requests and answers `ok <path>`. */
export async function httpBackend(): Promise<{
  port: number
  seen: SeenRequest[]
  close: () => Promise<void>
}> {
  const seen: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => res.end(`ok ${req.url}${body ? ` body=${body}` : ''}`))
  })
  await listenLoopback(server)
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export interface Stack {
  server: TunnelServer
  url: string
  agent: TunnelAgent
  startAgent: (account?: string, config?: Record<string, unknown>) => Promise<TunnelAgent>
  close: () => Promise<void>
}

/** Tunnel server + one agent for account `acme` with the given agent.json document. */
export async function startStack(
  agentConfig: Record<string, unknown>,
  serverOpts: Partial<TunnelServerOptions> = {},
): Promise<Stack> {
  const server = new TunnelServer({ auth: { secret: SECRET }, ...serverOpts })
  const addr = await server.listen()
  const url = `ws://127.0.0.1:${addr.port}`
  const agents: TunnelAgent[] = []
  const startAgent = async (account = 'acme', config = agentConfig): Promise<TunnelAgent> => {
    const agent = new TunnelAgent({
      server: url,
      token: token(`agent-${account}`, account),
      config,
      reconnect: { minMs: 50, maxMs: 200 },
    })
    agents.push(agent)
    const before = server.agents(account).length
    await agent.start()
    const expected = (config.mappings as unknown[]).length
    // The agent announces its mappings right after connecting; routing needs them.
    await waitFor(
      () => server.agents(account).filter((a) => a.mappings.length === expected).length > before,
      3000,
      'agent announcement',
    )
    return agent
  }
  const agent = await startAgent()
  return {
    server,
    url,
    agent,
    startAgent,
    close: async () => {
      await Promise.all(agents.map((a) => a.stop()))
      await server.close(200)
    },
  }
}

/** Writes `size` random bytes to a duplex, ends it, reads everything back; resolves with both digests. */
export async function roundTrip(
  stream: Duplex,
  size: number,
): Promise<{ sent: string; received: string; bytes: number }> {
  const data = randomBytes(size)
  const hash = createHash('sha256')
  let bytes = 0
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      hash.update(d)
      bytes += d.length
    })
    stream.on('end', () => resolve())
    stream.on('error', reject)
  })
  stream.end(data)
  await done
  return { sent: createHash('sha256').update(data).digest('hex'), received: hash.digest('hex'), bytes }
}

export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (d: Buffer) => chunks.push(d))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  await waitUntil(cond, { timeoutMs, what })
}
