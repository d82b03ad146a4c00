/**
 * The parts of net.Socket that HTTP clients and servers (http.Agent, undici, pg) call on the
 * socket they are given, so they can run over a tunnel stream: an idle timeout that emits
 * 'timeout', and no-op setNoDelay / setKeepAlive / ref / unref.
 */
import { Duplex } from 'node:stream'

export abstract class SocketLikeDuplex extends Duplex {
  #idleMs = 0
  #idleTimer: NodeJS.Timeout | undefined
  #lastActive = Date.now()

  abstract get remoteAddress(): string
  abstract get remotePort(): number

  /** Traffic in either direction: pushes the idle timeout out (cheap when none is set). */
  protected touch(): void {
    if (this.#idleMs) this.#lastActive = Date.now()
  }

  protected stopIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
  }

  /** Emits 'timeout' after `ms` without traffic in either direction (0 disables), like net.Socket. */
  setTimeout(ms: number, cb?: () => void): this {
    // As net.Socket: setTimeout(0, cb) removes cb (http.Agent relies on it for reused sockets).
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb)
      else this.once('timeout', cb)
    }
    this.#idleMs = ms
    this.stopIdle()
    if (ms > 0) {
      this.#lastActive = Date.now()
      this.#armIdle(ms)
    }
    return this
  }

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      if (this.destroyed || this.#idleMs === 0) return
      const idle = Date.now() - this.#lastActive
      if (idle >= this.#idleMs) this.emit('timeout')
      else this.#armIdle(this.#idleMs - idle)
    }, ms)
    this.#idleTimer.unref()
  }

  setNoDelay(_noDelay?: boolean): this {
    return this
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }
}
