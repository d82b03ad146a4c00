/**
 * Joins two duplexes (a tunnel stream and a socket, or two tunnel streams) both ways with
 * backpressure and half-close: EOF on one side ends the other's write side; an error or abrupt
 * close on one side destroys the other, so a reset travels end to end and nothing leaks.
 */
import type { Duplex } from 'node:stream'

/**
 * One direction. Like `pipe`, but corks the destination for the rest of the tick, so the several
 * chunks one incoming TCP read or WebSocket batch produces leave in one writev, not one syscall each.
 */
function forward(from: Duplex, to: Duplex): void {
  let corked = false
  const uncork = (): void => {
    corked = false
    if (!to.destroyed) to.uncork()
  }
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed || to.writableEnded) return
    if (!corked) {
      corked = true
      to.cork()
      process.nextTick(uncork)
    }
    if (!to.write(chunk)) from.pause()
  })
  to.on('drain', () => from.resume())
  from.once('end', () => {
    if (!to.destroyed && !to.writableEnded) to.end()
  })
}

/**
 * The part of a join both splice and relay share: an error or abrupt close on one side destroys
 * the other, and `onDone` runs once both are closed. Returns false when one side was already dead
 * (both are then destroyed and `onDone` has run).
 */
export function joinLifecycle(a: Duplex, b: Duplex, onDone?: (err?: Error) => void): boolean {
  if (a.destroyed || b.destroyed) {
    // One side died before the join (e.g. the peer cancelled while the target was connecting).
    a.destroy()
    b.destroy()
    onDone?.()
    return false
  }
  let finished = false
  let firstError: Error | undefined
  const kill = (other: Duplex) => (err?: Error) => {
    if (err && !firstError) firstError = err
    if (!other.destroyed) other.destroy()
  }
  const onClose = (self: Duplex, other: Duplex) => () => {
    // Closed before delivering everything it was sent, or before reading to the end: abort the other side.
    if (!self.readableEnded || !other.readableEnded) kill(other)()
    if (!finished && a.destroyed && b.destroyed) {
      finished = true
      onDone?.(firstError)
    }
  }
  a.on('error', kill(b))
  b.on('error', kill(a))
  a.on('close', onClose(a, b))
  b.on('close', onClose(b, a))
  return true
}

export function splice(a: Duplex, b: Duplex, onDone?: (err?: Error) => void): void {
  if (!joinLifecycle(a, b, onDone)) return
  forward(a, b)
  forward(b, a)
}
