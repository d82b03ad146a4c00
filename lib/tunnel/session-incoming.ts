/** The handle a session hands to its 'open' listener for a stream the peer wants to open. */
import type { OpenFrame } from './frames'
import type { IncomingOpen } from './session-types'
import type { TunnelStream } from './stream'

/**
 * Wraps a pending stream: the first of accept / reject decides. `send` runs the session side
 * (OPEN_OK or OPEN_FAIL) only while the stream is still pending, e.g. not reset meanwhile.
 */
export function incomingOpen(
  f: OpenFrame,
  stream: TunnelStream,
  send: { accept(): void; reject(reason: number, message: string): void },
): IncomingOpen {
  let decided = false
  return {
    ...stream.info,
    streamId: f.streamId,
    metadata: f.metadata,
    accept: () => {
      if (decided) throw new Error('IncomingOpen already answered')
      decided = true
      send.accept()
      return stream
    },
    reject: (reason, message = '') => {
      if (decided) return
      decided = true
      send.reject(reason, message)
      stream.discard()
    },
  }
}
