/**
 * Scale-out: three tunnel server processes on loopback. One agent keeps a session with each
 * instance (from a URL list, and through a CF-router stand-in with X-CF-APP-INSTANCE), so a request
 * arriving at any instance's connectivity proxy reaches the on-premise backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDevToken } from '../../lib/tunnel/index'
import { type SeenRequest, startEchoHttp } from './fixtures/backends'
import { startCfRouter } from './fixtures/cf-router'
import { type Child, spawnProc } from './fixtures/spawn'
import { DEV_SECRET } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'

const GUID = '6b0f8f0e-2f4c-4c57-9a43-1d1f3c7e5a90'
let backend: Awaited<ReturnType<typeof startEchoHttp>>
const servers: Child[] = []
const agents: Child[] = []
const proxyToken = createDevToken({ secret: DEV_SECRET, subject: 'sb-conn', account: 'acme' })

function agentSpec(extra: Record<string, unknown>) {
  return {
    role: 'agent',
    token: createDevToken({ secret: DEV_SECRET, subject: 'cc-1', account: 'acme' }),
    config: {
      locationId: '',
      mappings: [
        {
          protocol: 'HTTP',
          virtualHost: 's4.virtual',
          virtualPort: 80,
          internalHost: '127.0.0.1',
          internalPort: backend.port,
          internalProtocol: 'http',
          resources: [{ path: '/', subPaths: true }],
        },
      ],
    },
    ...extra,
  }
}

function get(proxyPort: number, path: string): Promise<{ status: number; body: string }> {
  return loopbackRequest(proxyPort, `http://s4.virtual${path}`, {
    headers: { 'Proxy-Authorization': `Bearer ${proxyToken}` },
  })
}

/** Right after 'connected' the agent's mapping announcement may still be on its way (403/503 for a moment). */
async function getWhenAnnounced(proxyPort: number, path: string): Promise<{ status: number; body: string }> {
  const until = Date.now() + 5000
  let r = await get(proxyPort, path)
  while ((r.status === 403 || r.status === 503) && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 25))
    r = await get(proxyPort, path)
  }
  return r
}

beforeAll(async () => {
  backend = await startEchoHttp()
  servers.push(
    ...(await Promise.all([0, 1, 2].map(() => spawnProc({ role: 'server', secret: DEV_SECRET }, 40_000)))),
  )
}, 60_000)
afterAll(async () => {
  await Promise.all([...agents, ...servers].map((c) => c.kill('SIGKILL')))
  await backend?.close()
})

describe('scale-out: three server processes', () => {
  it('URL list: the agent holds one session per instance; every instance routes to it', async () => {
    const agent = await spawnProc(agentSpec({ urls: servers.map((s) => `ws://127.0.0.1:${s.info.port}/`) }))
    agents.push(agent)
    for (const [i, s] of servers.entries()) {
      const r = await getWhenAnnounced(s.info.httpPort ?? 0, `/via/${i}`)
      expect(r.status, `instance ${i}`).toBe(200)
      expect((JSON.parse(r.body) as SeenRequest).url).toBe(`/via/${i}`)
    }
    await agent.kill('SIGKILL')
    agents.pop()
    // With the agent gone every instance answers 503 (no agent), not a hang.
    for (const s of servers) {
      const deadline = Date.now() + 5000
      let status = (await get(s.info.httpPort ?? 0, '/gone')).status
      while (Date.now() < deadline && status === 200) {
        await new Promise((r) => setTimeout(r, 50))
        status = (await get(s.info.httpPort ?? 0, '/gone')).status
      }
      expect(status).toBe(503)
    }
  })

  it('Cloud Foundry: through one router URL, X-CF-APP-INSTANCE pins one session per instance', async () => {
    const router = await startCfRouter(
      GUID,
      servers.map((s) => s.info.port ?? 0),
    )
    try {
      const agent = await spawnProc(
        agentSpec({ cf: { url: `ws://127.0.0.1:${router.port}/`, appGuid: GUID, instances: 3 } }),
      )
      agents.push(agent)
      expect(router.routed).toEqual([1, 1, 1])
      for (const [i, s] of servers.entries()) {
        const r = await getWhenAnnounced(s.info.httpPort ?? 0, `/cf/${i}`)
        expect(r.status, `instance ${i}`).toBe(200)
      }
    } finally {
      await router.close()
    }
  })
})
