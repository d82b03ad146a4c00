/**
 * Service channel end to end (on-premise → cloud): the agent listens on a local port; each
 * connection travels through the tunnel and the server connects to the cloud-side target only if
 * it is on the server's own --allow list.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AttachedServiceChannels, attachServiceChannels } from '../../lib/tunnel/channels'
import { startEchoTcp } from './fixtures/backends'
import { type Stack, startStack } from './fixtures/stack'

let stack: Stack
let cloudDb: Awaited<ReturnType<typeof startEchoTcp>>
let notAllowed: Awaited<ReturnType<typeof startEchoTcp>>
let channels: AttachedServiceChannels

function roundTrip(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(payload))
    let got = ''
    s.on('data', (d: Buffer) => {
      got += d.toString()
    })
    s.on('close', () => resolve(got))
    // A refused channel may reset the local connection (unread data): that is a close too.
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(got) : reject(err)))
  })
}

beforeAll(async () => {
  cloudDb = await startEchoTcp('PG ')
  notAllowed = await startEchoTcp('SECRET ')
  stack = await startStack({ allow: [`127.0.0.1:${cloudDb.port}`] })
  const agent = await stack.addAgent({
    locationId: '',
    mappings: [],
    serviceChannels: [
      { localPort: 0, target: `127.0.0.1:${cloudDb.port}` },
      { localPort: 0, target: `127.0.0.1:${notAllowed.port}` },
    ],
  })
  channels = await attachServiceChannels(agent)
})
afterAll(async () => {
  await channels?.close()
  await stack?.close()
  await cloudDb?.close()
  await notAllowed?.close()
})

describe('service channels', () => {
  it('a local port on the agent host reaches an allowed cloud target through the server (half-close kept)', async () => {
    const port = [...channels.ports()].find(([k]) => k.endsWith(`:${cloudDb.port}`))?.[1] ?? 0
    expect(await roundTrip(port, 'SELECT 1')).toBe('PG SELECT 1')
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => roundTrip(port, `q${i}`)))
    expect(many).toEqual(Array.from({ length: 20 }, (_, i) => `PG q${i}`))
  })

  it('a target missing from the server allowlist is denied: the local connection closes at once, nothing reaches it', async () => {
    const port = [...channels.ports()].find(([k]) => k.endsWith(`:${notAllowed.port}`))?.[1] ?? 0
    const started = Date.now()
    expect(await roundTrip(port, 'x')).toBe('')
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
