import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, ConnectivityError } from '../../lib/errors'
import { configureTunnel, getConfiguredTunnel, TunnelConnector } from '../../lib/transport/tunnel'
import { TunnelAgent } from '../../lib/tunnel/agent'
import type { AgentHttpContext } from '../../lib/tunnel/agent-http'
import { TunnelServer } from '../../lib/tunnel/server'
import { httpBackend, readAll, SECRET, token, waitFor } from './helpers'

let server: TunnelServer
let url: string
let backend: Awaited<ReturnType<typeof httpBackend>>
let agent: TunnelAgent
const seenPrincipals: (string | undefined)[] = []
let dir: string
let configPath: string

function mappingDoc(extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    locationId: 'plant-7',
    mappings: [
      {
        protocol: 'HTTP',
        virtualHost: 'erp.virtual',
        virtualPort: 80,
        internalHost: '127.0.0.1',
        internalPort: backend.port,
        resources: [{ path: '/', subPaths: true }],
      },
      ...extra,
    ],
  }
}

beforeAll(async () => {
  backend = await httpBackend()
  server = new TunnelServer({ auth: { secret: SECRET } })
  url = `ws://127.0.0.1:${(await server.listen()).port}`
  dir = mkdtempSync(join(tmpdir(), 'tunnel-agent-'))
  configPath = join(dir, 'agent.json')
  writeFileSync(configPath, JSON.stringify(mappingDoc()))
  agent = new TunnelAgent({
    server: url,
    token: token('agent', 'acme'),
    config: configPath,
    watchIntervalMs: 50,
    httpHooks: [
      (ctx: AgentHttpContext) => {
        seenPrincipals.push(ctx.principal)
        if (ctx.path === '/needs-user' && !ctx.principal) throw new AuthError('TOKEN_MISSING', 'no user')
        if (ctx.path === '/forbidden') throw new ConnectivityError('ACCESS_DENIED', 'no')
        if (ctx.principal) ctx.headers['x-user'] = 'from-hook'
      },
    ],
  })
  await agent.start()
  await waitFor(() => server.agents('acme').some((a) => a.mappings.length === 1), 3000, 'announcement')
})

afterAll(async () => {
  configureTunnel(undefined)
  await agent?.stop()
  await server?.close(100)
  await backend?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function httpOver(connector: TunnelConnector, path: string, jwt?: string): Promise<string> {
  const s = await connector.connect(
    { host: 'erp.virtual', port: 80 },
    { locationId: 'plant-7', ...(jwt ? { jwt } : {}) },
  )
  s.end(`GET ${path} HTTP/1.1\r\nHost: erp.virtual\r\nConnection: close\r\n\r\n`)
  return (await readAll(s)).toString()
}

describe('TunnelConnector (transport seam)', () => {
  it('opens a stream at ctx.locationId and carries ctx.jwt as the principal to the agent hook', async () => {
    const c = configureTunnel({ url, token: () => token('app', 'acme') }) as TunnelConnector
    expect(getConfiguredTunnel()).toBe(c)
    expect(c.route).toBe('tunnel')
    const reply = await httpOver(c, '/orders?top=1', 'user.jwt.value')
    expect(reply).toMatch(/^HTTP\/1.1 200/)
    expect(reply).toContain('ok /orders?top=1')
    expect(seenPrincipals.at(-1)).toBe('user.jwt.value')
    expect(backend.seen.at(-1)?.headers['x-user']).toBe('from-hook')
  })

  it('hook refusals become 401 / 403 and never reach the backend', async () => {
    const c = getConfiguredTunnel() as TunnelConnector
    const before = backend.seen.length
    expect(await httpOver(c, '/needs-user')).toMatch(/^HTTP\/1.1 401/)
    expect(await httpOver(c, '/forbidden', 'jwt')).toMatch(/^HTTP\/1.1 403/)
    expect(backend.seen.length).toBe(before)
  })

  it('reports a missing agent with requestSent false and the destination name', async () => {
    const c = getConfiguredTunnel() as TunnelConnector
    const err = await c
      .connect({ host: 'erp.virtual', port: 80 }, { locationId: 'nowhere', destinationName: 'ERP' })
      .catch((e) => e)
    expect(err.code).toBe('TUNNEL_NO_AGENT')
    expect(err.details).toMatchObject({ requestSent: false, destination: 'ERP' })
    expect(err.message).toContain('destination "ERP"')
  })

  it('is configured from CAP_CONNECTIVITY_TUNNEL_URL and _TOKEN when not configured in code', async () => {
    configureTunnel(undefined)
    expect(getConfiguredTunnel()).toBeUndefined()
    process.env.CAP_CONNECTIVITY_TUNNEL_URL = url
    process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN = token('env', 'acme')
    try {
      const c = getConfiguredTunnel() as TunnelConnector
      expect(c).toBeInstanceOf(TunnelConnector)
      expect(getConfiguredTunnel()).toBe(c)
      expect(await httpOver(c, '/env')).toContain('ok /env')
      await c.close()
    } finally {
      delete process.env.CAP_CONNECTIVITY_TUNNEL_URL
      delete process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN
    }
  })

  it('rejects bad options with TypeError', () => {
    expect(() => new TunnelConnector({ url: 'ftp://x', token: 't' })).toThrow(TypeError)
    expect(() => new TunnelConnector({ url: 'ws://x', token: 1 as never })).toThrow(TypeError)
  })
})

describe('agent.json is re-read when it changes', () => {
  it('a new mapping is announced and an invalid file keeps the old config', async () => {
    const reloaded = new Promise((r) => agent.once('config', r))
    writeFileSync(
      configPath,
      JSON.stringify(
        mappingDoc([
          {
            protocol: 'TCP',
            virtualHost: 'new.virtual',
            virtualPort: 1,
            internalHost: '127.0.0.1',
            internalPort: 1,
          },
        ]),
      ),
    )
    await reloaded
    await waitFor(() => server.agents('acme').some((a) => a.mappings.length === 2), 3000, 'new announcement')
    const warned = new Promise<Error>((r) => agent.once('warning', r))
    writeFileSync(configPath, '{ not json')
    expect(((await warned) as ConnectivityError).code).toBe('CONFIG_INVALID')
    expect(agent.config?.mappings).toHaveLength(2)
  })
})
