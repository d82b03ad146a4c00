import { afterEach, describe, expect, it } from 'vitest'
import { TunnelClient } from '../../lib/tunnel/client'
import { dialSession } from '../../lib/tunnel/dial'
import { TunnelServer } from '../../lib/tunnel/server'
import type { IncomingOpen } from '../../lib/tunnel/session'
import { closedPort } from '../fixtures/net'
import { roundTrip, SECRET, token } from './helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('server routing', () => {
  it('a stream opened before the agent announced waits for the announcement instead of failing', async () => {
    const server = new TunnelServer({ auth: { secret: SECRET } })
    const url = `ws://127.0.0.1:${(await server.listen()).port}`
    cleanups.push(() => server.close(100))
    const agent = await dialSession({ url, token: token('agent', 'acme'), role: 'agent' })
    cleanups.push(() => agent.destroy())
    agent.on('open', (inc: IncomingOpen) => {
      const s = inc.accept()
      s.pipe(s)
    })
    const client = new TunnelClient({ server: url, token: token('dev', 'acme') })
    cleanups.push(() => client.close())
    const opening = client.openStream({ host: 'late.virtual', port: 1 })
    setTimeout(
      () => agent.announce({ mappings: [{ host: 'late.virtual', ports: [1, 1], protocol: 'TCP' }] }),
      200,
    )
    const r = await roundTrip(await opening, 100)
    expect(r.received).toBe(r.sent)
  })

  it('a target on the server allowlist that refuses the connection fails the open with CONNECT_FAILED', async () => {
    const down = await closedPort()
    const server = new TunnelServer({ auth: { secret: SECRET }, allow: [`127.0.0.1:${down}`] })
    const url = `ws://127.0.0.1:${(await server.listen()).port}`
    cleanups.push(() => server.close(100))
    const client = new TunnelClient({ server: url, token: token('dev', 'acme') })
    cleanups.push(() => client.close())
    const err = await client.openStream({ host: '127.0.0.1', port: down }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONNECT_FAILED', details: { requestSent: false } })
  })

  it('appends extraMetrics to /metrics', async () => {
    const server = new TunnelServer({
      auth: { secret: SECRET },
      extraMetrics: () => 'failover_switches_total 3',
    })
    cleanups.push(() => server.close(100))
    expect(server.metrics()).toMatch(/# TYPE tunnel_sessions gauge[\s\S]*failover_switches_total 3\n$/)
  })
})
