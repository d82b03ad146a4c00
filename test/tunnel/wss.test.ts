import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TunnelAgent } from '../../lib/tunnel/agent'
import { TunnelClient } from '../../lib/tunnel/client'
import { ForwardClient } from '../../lib/tunnel/forward'
import { TunnelServer } from '../../lib/tunnel/server'
import { type TestPki, testPki } from '../fixtures/certs'
import { echoServer, roundTrip, SECRET, token, waitFor } from './helpers'

let pki: TestPki
let echo: Awaited<ReturnType<typeof echoServer>>
let server: TunnelServer
let url: string

beforeAll(async () => {
  pki = testPki()
  echo = await echoServer()
  server = new TunnelServer({
    auth: { secret: SECRET },
    tls: { cert: pki.serverCertPem, key: pki.serverKeyPem },
  })
  url = `wss://127.0.0.1:${(await server.listen()).port}`
}, 60_000)

afterAll(async () => {
  await server?.close(100)
  await echo?.close()
})

describe('tunnel over wss://', () => {
  it('agent and forward client verify the server certificate against the given CA and carry data', async () => {
    const agent = new TunnelAgent({
      server: url,
      token: token('agent', 'acme'),
      tls: { ca: pki.caPem },
      config: {
        mappings: [
          {
            protocol: 'TCP',
            virtualHost: 'db.virtual',
            virtualPort: 5432,
            internalHost: '127.0.0.1',
            internalPort: echo.port,
          },
        ],
      },
    })
    await agent.start()
    await waitFor(() => server.agents('acme').some((a) => a.mappings.length === 1), 3000, 'announcement')
    const fwd = new ForwardClient({
      server: url,
      token: token('dev', 'acme'),
      tls: { ca: pki.caPem },
      mappings: ['0:db.virtual:5432'],
    })
    try {
      const [l] = await fwd.start()
      const r = await roundTrip(net.connect(l?.address.port as number, '127.0.0.1'), 500_000)
      expect(r.received).toBe(r.sent)
    } finally {
      await fwd.close()
      await agent.stop()
    }
  })

  it('refuses a server certificate it cannot verify (no silent trust)', async () => {
    const client = new TunnelClient({ server: url, token: token('dev', 'acme') })
    const err = await client.connect().catch((e) => e)
    expect(err.code).toBe('CONNECT_FAILED')
    await client.close()
  })
})
