import { connect, createServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectivityError } from '../../lib/errors'
import { parseServiceChannels, ServiceChannels } from '../../lib/tunnel/channels'
import { startEchoTcp } from './fixtures/backends'
import { listenLoopback } from '../fixtures/net'

let cloud: Awaited<ReturnType<typeof startEchoTcp>>
beforeAll(async () => {
  cloud = await startEchoTcp('CLOUD ')
})
afterAll(() => cloud.close())

/** Stand-in for agent.openStream: the "server" allows only cloud-db.internal:5432. */
const agent = {
  opened: [] as string[],
  async openStream(o: { target: { host: string; port: number } }): Promise<Duplex> {
    agent.opened.push(`${o.target.host}:${o.target.port}`)
    if (o.target.host !== 'cloud-db.internal')
      throw new ConnectivityError('ACCESS_DENIED', 'not on the allow list')
    return new Promise((resolve, reject) => {
      const s = connect({ port: cloud.port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s))
      s.once('error', reject)
    })
  },
}

function roundTrip(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1', () => s.end(payload))
    let got = ''
    s.on('data', (d: Buffer) => {
      got += d.toString()
    })
    s.on('close', () => resolve(got))
    s.on('error', reject)
  })
}

describe('service channels (agent side)', () => {
  it('parses agent.json serviceChannels and rejects bad entries', () => {
    expect(parseServiceChannels([{ localPort: 15432, target: 'cloud-db.internal:5432' }])).toEqual([
      { localPort: 15432, localHost: '127.0.0.1', target: { host: 'cloud-db.internal', port: 5432 } },
    ])
    expect(parseServiceChannels(undefined)).toEqual([])
    for (const bad of [
      {},
      [{ localPort: 'x', target: 'a:1' }],
      [{ localPort: 1, target: 'nohost' }],
      [{ localPort: 1, target: 'a:0' }],
    ]) {
      expect(() => parseServiceChannels(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }))
    }
  })

  it('carries local connections to the cloud target (half-close), closes denied ones at once, reconciles on change', async () => {
    const channels = new ServiceChannels(agent)
    try {
      await channels.apply(
        parseServiceChannels([
          { localPort: 0, target: 'cloud-db.internal:5432' },
          { localPort: 0, target: 'other.internal:22' },
        ]),
      )
      const ports = [...channels.ports().entries()]
      const ok = ports.find(([k]) => k.includes('cloud-db'))?.[1] ?? 0
      const denied = ports.find(([k]) => k.includes('other'))?.[1] ?? 0
      expect(await roundTrip(ok, 'select 1')).toBe('CLOUD select 1')
      expect(await roundTrip(denied, 'x')).toBe('')
      await channels.apply(parseServiceChannels([{ localPort: 0, target: 'cloud-db.internal:5432' }]))
      expect(channels.ports().size).toBe(1)
    } finally {
      await channels.close()
    }
  })

  it('reports PORT_IN_USE for a taken local port', async () => {
    const blocker = createServer()
    await listenLoopback(blocker)
    const port = (blocker.address() as import('node:net').AddressInfo).port
    const channels = new ServiceChannels(agent)
    try {
      await expect(
        channels.apply([
          { localPort: port, localHost: '127.0.0.1', target: { host: 'cloud-db.internal', port: 5432 } },
        ]),
      ).rejects.toMatchObject({
        code: 'PORT_IN_USE',
      })
    } finally {
      await channels.close()
      await new Promise<void>((r) => blocker.close(() => r()))
    }
  })
})
