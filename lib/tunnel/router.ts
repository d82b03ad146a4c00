/**
 * Where a stream goes on the server: to a live agent of the caller's account and location that
 * maps the target, else — when allowed — straight from the server to a target on its own
 * allowlist, else it is refused (TUNNEL_NO_AGENT when no agent is there, ACCESS_DENIED otherwise).
 */
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { TunnelError } from '../errors'
import { awaitReady, describeTarget } from '../transport/socket-util'
import type { HostPortAllowlist } from './allowlist'
import type { StreamKind } from './frames'
import type { SessionEntry, SessionRegistry } from './registry'

export interface RouteRequest {
  readonly account: string
  readonly locationId: string
  readonly host: string
  readonly port: number
  readonly kind: StreamKind
  readonly metadata: Readonly<Record<string, string>>
  /** Whether the server's own allowlist may serve the target (forward clients, service channels). */
  readonly allowDirect: boolean
  /** Whether agents may serve it (false for streams opened by agents themselves). */
  readonly viaAgent: boolean
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

function refused(
  code: 'TUNNEL_NO_AGENT' | 'ACCESS_DENIED',
  message: string,
  target: string,
  locationId: string,
): TunnelError {
  return new TunnelError(code, message, {
    details: {
      target,
      locationId,
      reason: code === 'TUNNEL_NO_AGENT' ? 'NO_AGENT' : 'ACCESS_DENIED',
      requestSent: false,
    },
  })
}

/** A TCP connection from the server itself, with the connect timeout and error mapping every connector shares. */
function connectDirect(host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true })
  const what = `${describeTarget(host, port)} from the tunnel server`
  return awaitReady({ stream: socket, readyEvent: 'connect' }, { what, timeoutMs })
}

/** Opens the far side of a stream. @throws ConnectivityError TUNNEL_NO_AGENT | ACCESS_DENIED | CONNECT_FAILED | CONNECT_TIMEOUT (all `requestSent: false`) */
export async function route(
  registry: SessionRegistry,
  allow: HostPortAllowlist,
  req: RouteRequest,
): Promise<{ stream: Duplex; via: SessionEntry | 'direct' }> {
  const target = `${req.host}:${req.port}`
  const loc = req.locationId ? `location "${req.locationId}"` : 'the default location'
  const agents = req.viaAgent ? registry.liveAgents(req.account, req.locationId) : []
  let agent = registry.pick(agents, req.host, req.port)
  if (!agent && agents.some((a) => !a.announced)) {
    await registry.whenAnnounced(agents, 1_000)
    agent = registry.pick(agents, req.host, req.port)
  }
  if (agent) {
    const stream = await agent.session.openStream({
      host: req.host,
      port: req.port,
      kind: req.kind,
      locationId: req.locationId,
      metadata: req.metadata,
      timeoutMs: req.timeoutMs,
      ...(req.signal ? { signal: req.signal } : {}),
    })
    return { stream, via: agent }
  }
  if (req.allowDirect && allow.allows(req.host, req.port)) {
    return { stream: await connectDirect(req.host, req.port, req.timeoutMs), via: 'direct' }
  }
  if (agents.length) {
    throw refused(
      'ACCESS_DENIED',
      `No agent at ${loc} maps ${target}, and it is not on the server allowlist.`,
      target,
      req.locationId,
    )
  }
  if (req.allowDirect) {
    throw refused(
      'TUNNEL_NO_AGENT',
      `No agent connected for ${loc} of this account, and ${target} is not on the server allowlist (--allow).`,
      target,
      req.locationId,
    )
  }
  throw refused(
    'TUNNEL_NO_AGENT',
    `No agent connected for ${loc} of this account; start one with "cap-connectivity tunnel agent".`,
    target,
    req.locationId,
  )
}
