/**
 * With debug logging on (NODE_DEBUG=cap-connectivity:*), neither the proxy nor the agent's principal
 * propagation writes a token or a trust secret: sentinel values must not appear in their output.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDevToken } from '../../lib/tunnel/index'
import { startEchoHttp } from './fixtures/backends'
import { type Child, spawnProc } from './fixtures/spawn'
import { DEV_SECRET, hsToken } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'

const TRUST_SENTINEL = 'SENTINEL-TRUST-7f3a9c1e5b2d4f60a1'
const DEBUG = {
  NODE_DEBUG:
    'cap-connectivity:proxy,cap-connectivity:principal,cap-connectivity:tunnel-agent,cap-connectivity:tunnel-server',
}
let backend: Awaited<ReturnType<typeof startEchoHttp>>
let server: Child
let agent: Child

function get(headers: Record<string, string>): Promise<number> {
  return loopbackRequest(server.info.httpPort, 'http://s4.virtual/api/x', { headers }).then((r) => r.status)
}

beforeAll(async () => {
  backend = await startEchoHttp()
  server = await spawnProc({ role: 'server', secret: DEV_SECRET }, 40_000, DEBUG)
  agent = await spawnProc(
    {
      role: 'agent',
      urls: [`ws://127.0.0.1:${server.info.port}/`],
      token: createDevToken({ secret: DEV_SECRET, subject: 'cc', account: 'acme' }),
      config: {
        locationId: '',
        trust: { secret: TRUST_SENTINEL },
        mappings: [
          {
            protocol: 'HTTP',
            virtualHost: 's4.virtual',
            virtualPort: 80,
            internalHost: '127.0.0.1',
            internalPort: backend.port,
            internalProtocol: 'http',
            resources: [{ path: '/api/', subPaths: true }],
            principalPropagation: { mode: 'header' },
          },
        ],
      },
    },
    40_000,
    DEBUG,
  )
}, 90_000)
afterAll(async () => {
  await agent?.kill('SIGKILL')
  await server?.kill('SIGKILL')
  await backend?.close()
})

describe('no secrets in debug logs', () => {
  it('proxy and agent log decisions but never tokens or the trust secret', async () => {
    const proxyToken = createDevToken({ secret: DEV_SECRET, subject: 'app', account: 'acme' })
    const forgedProxy = await hsToken(
      { sub: 'app', account: 'acme', marker: 'SENTINEL-PROXY' },
      { secret: 'wrong-secret-wrong-secret-000' },
    )
    const goodUser = await hsToken({ user_name: 'alice' }, { secret: TRUST_SENTINEL })
    const badUser = await hsToken({ user_name: 'mallory' }, { secret: 'wrong-secret-wrong-secret-111' })
    expect(await get({ 'Proxy-Authorization': `Bearer ${forgedProxy}` })).toBe(407)
    let ok = 0
    for (let i = 0; i < 40 && ok !== 200; i++) {
      ok = await get({
        'Proxy-Authorization': `Bearer ${proxyToken}`,
        'SAP-Connectivity-Authentication': `Bearer ${goodUser}`,
      })
      if (ok !== 200) await new Promise((r) => setTimeout(r, 50))
    }
    expect(ok).toBe(200)
    expect(
      await get({
        'Proxy-Authorization': `Bearer ${proxyToken}`,
        'SAP-Connectivity-Authentication': `Bearer ${badUser}`,
      }),
    ).toBe(401)
    // SOCKS5 with the forged token: auth status 01 01.
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(server.info.socksPort ?? 0, '127.0.0.1', () => {
        const head = Buffer.alloc(5)
        head[0] = 1
        head.writeUInt32BE(forgedProxy.length, 1)
        s.write(Buffer.from([5, 1, 0x80]))
        s.write(Buffer.concat([head, Buffer.from(forgedProxy), Buffer.from([0])]))
      })
      let got = Buffer.alloc(0)
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d])
      })
      s.on('close', () => resolve(got))
      s.on('error', reject)
    })
    expect([...reply]).toEqual([5, 0x80, 1, 1])
    await new Promise((r) => setTimeout(r, 100))
    const logs = [...server.output, ...agent.output].join('')
    expect(logs).toMatch(/PROXY \d+: proxy auth refused/)
    expect(logs).toMatch(/PRINCIPAL \d+: user token rejected/)
    for (const secret of [TRUST_SENTINEL, DEV_SECRET, proxyToken, forgedProxy, goodUser, badUser]) {
      expect(logs).not.toContain(secret)
      expect(logs).not.toContain(secret.split('.')[2] ?? secret)
    }
  })
})
