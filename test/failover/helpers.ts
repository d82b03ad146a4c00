/** Loopback helpers for the failover tests: controllable HTTP members and a probe/send pair on undici. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, type Dispatcher, request as undiciRequest } from 'undici'
import { type GroupAttempt, isIdempotent } from '../../lib/failover/execute'
import type { MemberProber } from '../../lib/failover/group-runtime'
import { sleep, waitUntil } from '../fixtures/wait'

export interface Member {
  readonly name: string
  url: string
  port: number
  /** Status the probe path answers with. */
  probeStatus: number
  /** Delay before answering probes (ms). */
  probeDelayMs: number
  /** Status real requests get. */
  status: number
  /** Delay before answering real requests (ms). */
  realDelayMs: number
  /** `drop`: read the request, then destroy the socket without answering (the request reached the server). */
  mode: 'answer' | 'drop'
  readonly hits: {
    probe: number
    real: number
    realByMethod: Record<string, number>
    probeAuth: string[]
    realAuth: string[]
  }
  kill(): Promise<void>
  revive(): Promise<void>
  close(): Promise<void>
}

export async function startMember(name: string, port = 0): Promise<Member> {
  let server: http.Server | undefined
  const m: Member = {
    name,
    url: '',
    port: 0,
    probeStatus: 200,
    probeDelayMs: 0,
    status: 200,
    mode: 'answer',
    realDelayMs: 0,
    hits: { probe: 0, real: 0, realByMethod: {}, probeAuth: [], realAuth: [] },
    async kill() {
      const s = server
      server = undefined
      if (!s) return
      s.closeAllConnections()
      await new Promise<void>((r) => s.close(() => r()))
    },
    async revive() {
      if (server) return
      server = await listen(m, m.port)
    },
    async close() {
      await m.kill()
    },
  }
  server = await listen(m, port)
  m.port = (server.address() as AddressInfo).port
  m.url = `http://127.0.0.1:${m.port}`
  return m
}

function listen(m: Member, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/health')) {
      m.hits.probe++
      m.hits.probeAuth.push(req.headers.authorization ?? '')
      setTimeout(() => {
        res.statusCode = m.probeStatus
        res.end(m.name)
      }, m.probeDelayMs)
      return
    }
    m.hits.real++
    m.hits.realAuth.push(req.headers.authorization ?? '')
    m.hits.realByMethod[req.method ?? '?'] = (m.hits.realByMethod[req.method ?? '?'] ?? 0) + 1
    req.resume()
    req.on('end', () => {
      if (m.mode === 'drop') {
        req.socket.destroy()
        return
      }
      const answer = () => {
        res.statusCode = m.status
        res.end(m.name)
      }
      if (m.realDelayMs > 0) setTimeout(answer, m.realDelayMs)
      else answer()
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** A dispatcher per test so keep-alive sockets do not leak between tests. */
export function makeAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connections: 16 })
}

export function undiciProber(members: Record<string, Member>, agent: Agent): MemberProber {
  return async (dest, probe, signal) => {
    const m = members[dest]
    if (!m) throw new Error(`no member ${dest}`)
    const res = await undiciRequest(`${m.url}${probe.path}`, {
      method: probe.method,
      signal,
      dispatcher: agent,
    })
    await res.body.dump()
    return { status: res.statusCode }
  }
}

export { sleep }

/** Polls `cond` every 10 ms until it holds; returns the elapsed ms or throws after `maxMs`. */
export function waitFor(cond: () => boolean, maxMs: number): Promise<number> {
  return waitUntil(cond, { timeoutMs: maxMs })
}

/** A GroupAttempt that sends one request with undici to the member's URL. */
export function undiciAttempt(
  members: Record<string, Member>,
  agent: Agent,
  method: string,
  opts: { path?: string; body?: string; idempotent?: boolean; signal?: AbortSignal } = {},
): GroupAttempt<Dispatcher.ResponseData> {
  return {
    method,
    idempotent: isIdempotent(method, opts.idempotent),
    signal: opts.signal,
    async send(dest) {
      const m = members[dest]
      if (!m) throw new Error(`no member ${dest}`)
      return undiciRequest(`${m.url}${opts.path ?? '/api'}`, {
        method,
        body: opts.body,
        dispatcher: agent,
        signal: opts.signal,
      })
    },
    statusOf: (r) => r.statusCode,
    discard: (r) => r.body.dump(),
    replayable: () => true,
  }
}
