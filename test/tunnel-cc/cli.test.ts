/**
 * The CLI roles with this features: `tunnel server --proxy-http/--proxy-socks`, and
 * `tunnel agent --servers a,b` (one session per instance) with principal propagation and a
 * service channel from agent.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../lib/cli/main'
import { createDevToken } from '../../lib/tunnel/index'
import { type CapturedOutput, captureOutput } from '../fixtures/cli'
import { freePort } from '../fixtures/net'
import { type SeenRequest, startEchoHttp, startEchoTcp } from './fixtures/backends'
import { DEV_SECRET, hsToken } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'
import { waitUntil } from '../fixtures/wait'

async function waitFor(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  await waitUntil(cond, { timeoutMs: ms, what, everyMs: 20 })
}

function get(proxyPort: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return loopbackRequest(proxyPort, 'http://s4.virtual:80/api/x', { headers })
}

let io: CapturedOutput | undefined
afterEach(() => {
  io?.restore()
  io = undefined
})

describe('cap-connectivity tunnel (issue 7 options)', () => {
  it('two servers with the local proxy, one agent with --servers: both proxies reach the backend as the user; service channel works', async () => {
    const backend = await startEchoHttp()
    const cloud = await startEchoTcp('CLOUD ')
    const dir = mkdtempSync(join(tmpdir(), 'cc-cli-'))
    const [s1, s2, p1, p2, channelPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ])
    const config = join(dir, 'agent.json')
    writeFileSync(
      config,
      JSON.stringify({
        locationId: '',
        trust: { secret: DEV_SECRET },
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
        serviceChannels: [{ localPort: channelPort, target: `127.0.0.1:${cloud.port}` }],
      }),
    )
    io = captureOutput()
    const allow = ['--allow', `127.0.0.1:${cloud.port}`]
    const server1 = main([
      'tunnel',
      'server',
      '--port',
      String(s1),
      '--secret',
      DEV_SECRET,
      '--proxy-http',
      String(p1),
      ...allow,
    ])
    const server2 = main([
      'tunnel',
      'server',
      '--port',
      String(s2),
      '--secret',
      DEV_SECRET,
      '--proxy-http',
      String(p2),
      ...allow,
    ])
    await waitFor(() => (io?.out().match(/Local connectivity proxy: HTTP/g) ?? []).length === 2, 'servers')
    const agent = main([
      'tunnel',
      'agent',
      '--servers',
      `ws://127.0.0.1:${s1},ws://127.0.0.1:${s2}`,
      '--token',
      createDevToken({ secret: DEV_SECRET, subject: 'cc', account: 'acme' }),
      '--config',
      config,
    ])
    await waitFor(() => io?.out().includes(`listening on port ${channelPort}`) ?? false, 'service channel')
    expect((io.out().match(/Agent connected to/g) ?? []).length).toBe(2)
    try {
      const headers = {
        'Proxy-Authorization': `Bearer ${createDevToken({ secret: DEV_SECRET, subject: 'app', account: 'acme' })}`,
        'SAP-Connectivity-Authentication': `Bearer ${await hsToken({ user_name: 'alice' })}`,
      }
      for (const p of [p1, p2]) {
        let r = await get(p, headers)
        for (let i = 0; i < 20 && r.status === 503; i++) {
          await new Promise((res) => setTimeout(res, 50))
          r = await get(p, headers)
        }
        expect(r.status).toBe(200)
        expect((JSON.parse(r.body) as SeenRequest).headers['sap-connectivity-user']).toBe('alice')
      }
      const echoed = await new Promise<string>((resolve, reject) => {
        const s = connect(channelPort, '127.0.0.1', () => s.end('ping'))
        let got = ''
        s.on('data', (d: Buffer) => {
          got += d.toString()
        })
        s.on('close', () => resolve(got))
        s.on('error', reject)
      })
      expect(echoed).toBe('CLOUD ping')
      // The server's /metrics carries the local proxy's counters next to its own.
      const metrics = await (await fetch(`http://127.0.0.1:${s1}/metrics`)).text()
      const requests = /^tunnel_proxy_requests_total\{proxy="http"\} (\d+)$/m.exec(metrics)
      expect(Number(requests?.[1])).toBeGreaterThanOrEqual(1)
      expect(metrics).toMatch(/^tunnel_proxy_failed_total\{proxy="http"\} \d+$/m)
      expect(metrics).toContain('tunnel_sessions')
    } finally {
      process.emit('SIGINT')
      expect(await Promise.all([agent, server1, server2])).toEqual([0, 0, 0])
      await backend.close()
      await cloud.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects unusable scale-out flag combinations with exit code 2', async () => {
    io = captureOutput()
    const t = createDevToken({ secret: DEV_SECRET, subject: 'cc', account: 'acme' })
    expect(
      await main([
        'tunnel',
        'agent',
        '--servers',
        'ws://a,ws://b',
        '--server',
        'ws://c',
        '--token',
        t,
        '--config',
        'x.json',
      ]),
    ).toBe(2)
    expect(await main(['tunnel', 'agent', '--cf-app-guid', 'g', '--token', t, '--config', 'x.json'])).toBe(2)
    expect(io.err()).toMatch(/--cf-app-guid and --cf-instances go together/)
  })
})
