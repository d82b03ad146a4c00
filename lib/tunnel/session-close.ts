/** How a session ends: the close info and error it reports, and failing every stream it still holds. */
import { TunnelError } from '../errors'
import { Reason, reasonName } from './codes'
import type { Opening } from './session-opens'
import type { SessionCloseInfo } from './session-types'
import { withoutStack } from './codes'
import type { TunnelStream } from './stream'

const isProtocolReason = (code: number): boolean =>
  code === Reason.PROTOCOL_ERROR || code === Reason.FLOW_CONTROL_ERROR || code === Reason.STREAM_CLOSED

/** WebSocket close status for a session ended with `reason`: 1002 for protocol violations. */
export function closeCode(reason: number): number {
  return isProtocolReason(reason) ? 1002 : 1001
}

/** Close info with the error streams and openers will see (TUNNEL_PROTOCOL_ERROR or TUNNEL_CLOSED). */
export function closeInfo(code: number, message: string): SessionCloseInfo {
  return {
    code,
    reason: message,
    error: new TunnelError(
      isProtocolReason(code) ? 'TUNNEL_PROTOCOL_ERROR' : 'TUNNEL_CLOSED',
      `Tunnel session closed (${reasonName(code)}: ${message}).`,
      { details: { reason: reasonName(code), requestSent: false } },
    ),
  }
}

/**
 * The session is gone: opens reject, streams not yet accepted are dropped, streams with both
 * directions finished just close, every other stream fails with TUNNEL_CLOSED. Empties `streams`.
 */
export function failStreams(
  info: SessionCloseInfo,
  opens: readonly Opening[],
  pendingAccept: readonly number[],
  streams: Map<number, TunnelStream>,
): void {
  const err =
    info.error ??
    new TunnelError('TUNNEL_CLOSED', 'Tunnel session closed.', { details: { requestSent: false } })
  for (const opening of opens) {
    opening.stream.discard()
    opening.reject(err)
  }
  for (const id of pendingAccept) streams.get(id)?.discard()
  for (const stream of [...streams.values()]) {
    const target = `${stream.info.host}:${stream.info.port}`
    if (stream.finSent && stream.finReceived) stream.destroy()
    else
      stream.onSessionClosed(
        withoutStack(
          () =>
            new TunnelError('TUNNEL_CLOSED', `Tunnel session closed while stream to ${target} was open.`, {
              details: { target, reason: reasonName(info.code) },
              cause: err,
            }),
        ),
      )
  }
  streams.clear()
}
