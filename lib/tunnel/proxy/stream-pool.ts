/**
 * Keep-alive tunnel streams for the HTTP proxy: one node `http.Agent` per (account, location,
 * target, user), whose connections are tunnel streams. Idempotent requests reuse an idle stream
 * instead of opening a new one and a new backend request context at the agent each time.
 * Streams are never shared between users (the principal is part of the key).
 */
import { createHash } from 'node:crypto'
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http'
import type { Duplex } from 'node:stream'

type Open = () => Promise<Duplex>

/** An http.Agent whose connections are opened by `open` (a tunnel stream, not a TCP socket). */
class StreamAgent extends Agent {
  readonly #open: Open
  constructor(open: Open, options: AgentOptions) {
    super(options)
    this.#open = open
  }
  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.#open().then(
      (stream) => callback?.(null, stream),
      (err: unknown) => callback?.(err as Error, undefined as unknown as Duplex),
    )
    return undefined
  }
}

export interface StreamPoolOptions {
  /** Distinct keys kept (least recently used dropped); default 256. */
  readonly maxKeys?: number
  /** Concurrent streams per key; default 32. */
  readonly maxStreamsPerKey?: number
  /** Idle streams kept per key; default 8. */
  readonly maxIdlePerKey?: number
  /** Idle time after which a kept stream is closed; default 4 000 ms. */
  readonly idleMs?: number
}

/** Bounded set of per-key stream agents. */
export class StreamPool {
  readonly #agents = new Map<string, Agent>()
  readonly #opts: Required<StreamPoolOptions>

  constructor(options: StreamPoolOptions = {}) {
    this.#opts = {
      maxKeys: options.maxKeys ?? 256,
      maxStreamsPerKey: options.maxStreamsPerKey ?? 32,
      maxIdlePerKey: options.maxIdlePerKey ?? 8,
      idleMs: options.idleMs ?? 4000,
    }
  }

  /** The pool key; the user token is hashed so the key never holds a secret. */
  static key(parts: {
    account: string
    locationId: string
    host: string
    port: number
    principal: string | undefined
  }): string {
    const user =
      parts.principal === undefined ? '' : createHash('sha256').update(parts.principal).digest('base64url')
    return JSON.stringify([parts.account, parts.locationId, parts.host, parts.port, user])
  }

  /** The agent for `key`, created with `open` on first use. */
  agentFor(key: string, open: Open): Agent {
    let agent = this.#agents.get(key)
    if (agent !== undefined) {
      // Map order is insertion order: re-insert to mark as recently used.
      this.#agents.delete(key)
      this.#agents.set(key, agent)
      return agent
    }
    agent = new StreamAgent(open, {
      keepAlive: true,
      maxSockets: this.#opts.maxStreamsPerKey,
      maxFreeSockets: this.#opts.maxIdlePerKey,
      timeout: this.#opts.idleMs,
    })
    this.#agents.set(key, agent)
    if (this.#agents.size > this.#opts.maxKeys) {
      const [oldestKey, oldest] = this.#agents.entries().next().value as [string, Agent]
      this.#agents.delete(oldestKey)
      oldest.destroy()
    }
    return agent
  }

  /** Closes every kept stream. */
  destroy(): void {
    for (const a of this.#agents.values()) a.destroy()
    this.#agents.clear()
  }
}
