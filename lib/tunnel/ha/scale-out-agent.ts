/**
 * One agent session per server instance, so that whichever instance receives a request (router,
 * Kubernetes Service) finds an agent of the account there. No cluster layer between servers.
 */
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { hasErrorCode, TunnelError } from '../../errors'
import { type InstanceSource, resolveInstances, type ServerInstance } from './instances'

const debug = debuglog('cap-connectivity:scale-out')

type RawConfig = { readonly raw: Readonly<Record<string, unknown>> }

/** What the scale-out helper needs from one agent (TunnelAgent satisfies it). */
export interface InstanceAgent {
  /** Resolves on the first session (or once reconnecting is scheduled); rejects for a refused token or bad config. */
  start(): Promise<void>
  stop(): Promise<void>
  readonly config?: RawConfig | undefined
  openStream?(options: { target: { host: string; port: number }; kind?: 'tcp' | 'http' }): Promise<Duplex>
  on?(event: 'config', listener: (config: RawConfig) => void): unknown
}

export interface ScaleOutAgentOptions<A extends InstanceAgent> {
  readonly source: InstanceSource
  /** Creates the agent for one instance (e.g. `new TunnelAgent({ ...opts, server: url, headers })`). */
  readonly createAgent: (instance: ServerInstance) => A
  /** Re-resolve interval for DNS sources in ms; default 30 000 (0 = never). */
  readonly refreshMs?: number
}

/**
 * Keeps one agent per server instance and follows DNS changes. Also usable as the agent of
 * service channels: `openStream` goes through any connected instance, 'config' is forwarded.
 * Events: 'added' (key), 'removed' (key), 'config' (config), 'error' (Error from a background refresh).
 * @example const ha = new ScaleOutAgent({ source: { urls }, createAgent: (i) => new TunnelAgent({ server: i.url, headers: i.headers, token, config }) }); await ha.start()
 */
export class ScaleOutAgent<A extends InstanceAgent> extends EventEmitter {
  readonly #opts: ScaleOutAgentOptions<A>
  readonly #agents = new Map<string, A>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: ScaleOutAgentOptions<A>) {
    super()
    this.#opts = options
  }

  /** The running agents by instance key. */
  get agents(): ReadonlyMap<string, A> {
    return this.#agents
  }

  /** The agent configuration (of the first agent that loaded one). */
  get config(): RawConfig | undefined {
    for (const a of this.#agents.values()) if (a.config !== undefined) return a.config
    return undefined
  }

  /**
   * Resolves the instances and starts one agent each; DNS sources are re-resolved periodically.
   * @throws what an agent's start throws (e.g. TUNNEL_AUTH_FAILED), after stopping every agent.
   */
  async start(): Promise<void> {
    try {
      await this.refresh()
    } catch (err) {
      await this.stop()
      throw err
    }
    const every = this.#opts.refreshMs ?? 30_000
    if ('dns' in this.#opts.source && every > 0) {
      this.#timer = setInterval(() => {
        this.refresh().catch((err: unknown) => {
          debug('instance refresh failed: %s', (err as Error).message)
          this.emit('error', err)
        })
      }, every)
      this.#timer.unref()
    }
  }

  /** Reconciles agents with the current instance list (new instances get an agent, gone ones are stopped). */
  async refresh(): Promise<void> {
    const instances = await resolveInstances(this.#opts.source)
    if (this.#closed) return
    const wanted = new Set(instances.map((i) => i.key))
    for (const [key, agent] of this.#agents) {
      if (!wanted.has(key)) {
        this.#agents.delete(key)
        await agent.stop()
        this.emit('removed', key)
      }
    }
    const started: Promise<void>[] = []
    for (const instance of instances) {
      if (this.#agents.has(instance.key)) continue
      const agent = this.#opts.createAgent(instance)
      agent.on?.('config', (config) => this.emit('config', config))
      this.#agents.set(instance.key, agent)
      started.push(agent.start())
      debug('session for instance %s', instance.key)
      this.emit('added', instance.key)
    }
    await Promise.all(started)
  }

  /**
   * Opens a stream towards the server side through the first instance whose session is up.
   * @throws TunnelError `TUNNEL_CLOSED` when no instance is connected; other open errors as they come.
   */
  async openStream(options: {
    target: { host: string; port: number }
    kind?: 'tcp' | 'http'
  }): Promise<Duplex> {
    let last: unknown
    for (const agent of this.#agents.values()) {
      if (agent.openStream === undefined) continue
      try {
        return await agent.openStream(options)
      } catch (err) {
        // Only a missing session moves on to the next instance; a denial is the same everywhere.
        if (!hasErrorCode(err, 'TUNNEL_CLOSED')) throw err
        last = err
      }
    }
    throw (
      last ??
      new TunnelError('TUNNEL_CLOSED', 'No agent session is connected to any server instance.', {
        details: { requestSent: false },
      })
    )
  }

  /** Stops every agent. */
  async stop(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await Promise.all([...this.#agents.values()].map((a) => a.stop()))
    this.#agents.clear()
  }
}
