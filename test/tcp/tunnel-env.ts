/** Our tunnel for TCP/RFC tests: a TunnelServer, one agent with the given mappings, and the app side configured. */
import { configureTunnel } from '../../lib/transport/tunnel'
import { createDevToken, TunnelAgent, TunnelServer } from '../../lib/tunnel/index'

const SECRET = 'tcp-rfc-tunnel-secret-0123456789abcdef'

export interface TunnelEnv {
  readonly server: TunnelServer
  readonly agent: TunnelAgent
  close(): Promise<void>
}

/** Starts server + agent (location `locationId`) and routes OnPremise destinations through it. */
export async function startTunnelEnv(
  mappings: Record<string, unknown>[],
  locationId = '',
): Promise<TunnelEnv> {
  const server = new TunnelServer({ port: 0, host: '127.0.0.1', auth: { secret: SECRET }, allow: [] })
  const { port } = await server.listen()
  const url = `ws://127.0.0.1:${port}/`
  const agent = new TunnelAgent({
    server: url,
    token: createDevToken({ secret: SECRET, subject: 'agent-onprem', account: 'acme' }),
    config: { locationId, mappings },
    reconnect: { minMs: 50, maxMs: 500 },
  })
  agent.on('warning', () => undefined)
  await agent.start()
  configureTunnel({ url, token: createDevToken({ secret: SECRET, subject: 'cloud-app', account: 'acme' }) })
  return {
    server,
    agent,
    async close() {
      configureTunnel(undefined)
      await agent.stop()
      await server.close(100)
    },
  }
}

export const tcpMapping = (virtualHost: string, virtualPort: number, internalPort: number) => ({
  protocol: 'TCP',
  virtualHost,
  virtualPort,
  internalHost: '127.0.0.1',
  internalPort,
})
