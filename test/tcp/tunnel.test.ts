import { createHash } from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { connectTcp } from '../../lib/tcp/connect'
import { openLocalPort } from '../../lib/tcp/local-port'
import { echoExact, roundTrip, sha256, startEcho, type TestServer } from './helpers'
import { startTunnelEnv, type TunnelEnv, tcpMapping } from './tunnel-env'

const onPrem = (name: string, address: string, location?: string) =>
  parseDestination({
    Name: name,
    Type: 'TCP',
    Address: address,
    ProxyType: 'OnPremise',
    ...(location ? { CloudConnectorLocationId: location } : {}),
  })

describe('TCP through our tunnel (agent on the on-premise side)', () => {
  let echo: TestServer
  let tunnel: TunnelEnv
  beforeAll(async () => {
    echo = await startEcho()
    tunnel = await startTunnelEnv([tcpMapping('mq.virtual', 5672, echo.port)], 'LOC_T')
  })
  afterAll(async () => {
    await tunnel.close()
    await echo.close()
  })

  it('connectTcp opens a tunnel stream with half-close', async () => {
    const stream = await connectTcp(onPrem('MQ', 'mq.virtual:5672', 'LOC_T'))
    expect(stream.route).toBe('tunnel')
    const payload = Buffer.alloc(700_000, 7)
    expect(sha256(await roundTrip(stream, payload))).toBe(sha256(payload))
  })

  it('openLocalPort carries parallel checksummed streams through the tunnel', async () => {
    const local = await openLocalPort(onPrem('MQ', 'mq.virtual:5672', 'LOC_T'), { maxConnections: 32 })
    const ok = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const payload = createHash('sha512').update(`p${i}`).digest()
        const big = Buffer.concat(Array.from({ length: 4096 }, () => payload))
        const s = net.connect({ port: local.port, host: local.host })
        const back = await echoExact(s, big)
        s.destroy()
        return sha256(back) === sha256(big)
      }),
    )
    expect(ok.every(Boolean)).toBe(true)
    await local.close()
  })

  it('reports an unmapped target as ACCESS_DENIED and a location without agent as NO_AGENT, naming the route', async () => {
    await expect(connectTcp(onPrem('OTHER', 'secret.virtual:22', 'LOC_T'))).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('destination "OTHER" (route tunnel)'),
    })
    await expect(connectTcp(onPrem('NOWHERE', 'mq.virtual:5672', 'LOC_MISSING'))).rejects.toMatchObject({
      code: 'NO_AGENT',
      details: expect.objectContaining({ route: 'tunnel', requestSent: false }),
    })
  })
})
