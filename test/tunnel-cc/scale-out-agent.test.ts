import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TunnelError } from '../../lib/errors'
import { type InstanceAgent, ScaleOutAgent, type ServerInstance } from '../../lib/tunnel/ha'
import { startDns } from './fixtures/dns'

/** Records what the scale-out helper does with each instance's agent (the factory is its seam). */
class RecordingAgent implements InstanceAgent {
  started = 0
  stopped = 0
  constructor(
    readonly instance: ServerInstance,
    readonly connected: boolean,
  ) {}
  async start(): Promise<void> {
    this.started++
  }
  async stop(): Promise<void> {
    this.stopped++
  }
  async openStream(): Promise<never> {
    if (!this.connected) throw new TunnelError('TUNNEL_CLOSED', 'not connected')
    throw new TunnelError('ACCESS_DENIED', `denied via ${this.instance.key}`)
  }
}

const records: Record<string, string[]> = { 'tunnel.svc.local': ['127.0.0.1'] }
let dns: Awaited<ReturnType<typeof startDns>>
beforeAll(async () => {
  dns = await startDns(records)
})
afterAll(() => dns.close())

describe('ScaleOutAgent', () => {
  it('follows DNS: a new A record gets an agent, a vanished one is stopped', async () => {
    const made: RecordingAgent[] = []
    const ha = new ScaleOutAgent({
      source: { dns: 'ws://tunnel.svc.local:8080/', dnsServers: [dns.server] },
      createAgent: (i) => {
        const a = new RecordingAgent(i, true)
        made.push(a)
        return a
      },
      refreshMs: 0,
    })
    await ha.start()
    expect([...ha.agents.keys()]).toEqual(['127.0.0.1'])
    records['tunnel.svc.local'] = ['127.0.0.1', '10.0.0.9']
    await ha.refresh()
    expect([...ha.agents.keys()].sort()).toEqual(['10.0.0.9', '127.0.0.1'])
    expect(made[1]?.instance.url).toBe('ws://10.0.0.9:8080/')
    records['tunnel.svc.local'] = ['10.0.0.9']
    await ha.refresh()
    expect([...ha.agents.keys()]).toEqual(['10.0.0.9'])
    expect(made[0]?.stopped).toBe(1)
    await ha.stop()
    expect(made.every((a) => a.started === 1 && a.stopped === 1)).toBe(true)
  })

  it('openStream skips instances without a session but not a denial', async () => {
    const ha = new ScaleOutAgent({
      source: { urls: ['ws://127.0.0.1:1/', 'ws://127.0.0.1:2/'] },
      createAgent: (i) => new RecordingAgent(i, i.url.includes(':2/')),
    })
    await ha.start()
    await expect(ha.openStream({ target: { host: 'x', port: 1 } })).rejects.toThrow(
      /denied via ws:\/\/127.0.0.1:2\//,
    )
    await ha.stop()
  })

  it('start fails (and stops every agent) when an agent refuses to start, e.g. a rejected token', async () => {
    const made: RecordingAgent[] = []
    const ha = new ScaleOutAgent({
      source: { urls: ['ws://127.0.0.1:1/', 'ws://127.0.0.1:2/'] },
      createAgent: (i) => {
        const a = new RecordingAgent(i, true)
        if (i.url.includes(':2/'))
          a.start = async () => Promise.reject(new TunnelError('TUNNEL_AUTH_FAILED', 'refused'))
        made.push(a)
        return a
      },
    })
    await expect(ha.start()).rejects.toMatchObject({ code: 'TUNNEL_AUTH_FAILED' })
    expect(made.map((a) => a.stopped)).toEqual([1, 1])
  })
})
