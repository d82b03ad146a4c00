/**
 * One agent session per server instance, so that whichever instance receives a request (router,
 * Kubernetes Service) finds an agent of the account there. No cluster layer between servers.
 */
import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import { type InstanceSource, resolveInstances, type ServerInstance } from './instances'

const debug = debuglog('cap-connectivity:scale-out')

/** What the scale-out helper needs from one agent (TunnelAgent satisfies it). */
export interface InstanceAgent {
  start(): Promise<void>
  stop(): Promise<void>
}

export interface ScaleOutAgentOptions<A extends InstanceAgent> {
  readonly source: InstanceSource
  /** Creates the agent for one instance (e.g. `new TunnelAgent({ ...opts, server: url, headers })`). */
  readonly createAgent: (instance: ServerInstance) => A
  /** Re-resolve interval for DNS sources in ms; default 30 000 (0 = never). */
  readonly refreshMs?: number
}

/**
 * Keeps one agent per server instance and follows DNS changes.
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

  /** Resolves the instances and starts one agent each; DNS sources are re-resolved periodically. */
  async start(): Promise<void> {
    await this.refresh()
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

  /** Reconciles agents with the current instance list (new instances get an agent, gone ones are closed). */
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
    for (const instance of instances) {
      if (this.#agents.has(instance.key)) continue
      const agent = this.#opts.createAgent(instance)
      this.#agents.set(instance.key, agent)
      // Each agent reconnects on its own; a failing first dial must not stop the others.
      agent.start().catch((err: unknown) => this.emit('error', err))
      debug('session for instance %s', instance.key)
      this.emit('added', instance.key)
    }
  }

  /** Stops every agent. */
  async stop(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await Promise.all([...this.#agents.values()].map((a) => a.stop()))
    this.#agents.clear()
  }
}
