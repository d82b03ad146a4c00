import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveInstances } from '../../lib/tunnel/ha'
import { startDns } from './fixtures/dns'

let dns: Awaited<ReturnType<typeof startDns>>
beforeAll(async () => {
  dns = await startDns({
    'tunnel-headless.ns.svc.cluster.local': ['127.0.0.3', '127.0.0.1', '127.0.0.2', '127.0.0.1'],
  })
})
afterAll(() => dns.close())

describe('server instance discovery for scale-out', () => {
  it('URL list: one instance per distinct URL', async () => {
    const list = await resolveInstances({
      urls: ['ws://127.0.0.1:1/t', 'ws://127.0.0.1:2/t', 'ws://127.0.0.1:1/t'],
    })
    expect(list.map((i) => i.url)).toEqual(['ws://127.0.0.1:1/t', 'ws://127.0.0.1:2/t'])
    await expect(resolveInstances({ urls: [] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    await expect(resolveInstances({ urls: ['http://x'] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('Cloud Foundry: one instance per index, pinned with X-CF-APP-INSTANCE <guid>:<index>', async () => {
    const guid = '7c1a5a5e-9a0e-4c1e-8d7e-3f2b1a0c9d8e'
    const list = await resolveInstances({
      cf: { url: 'wss://tunnel.example.test', appGuid: guid, instances: 3 },
    })
    expect(list.map((i) => i.headers['X-CF-APP-INSTANCE'])).toEqual([`${guid}:0`, `${guid}:1`, `${guid}:2`])
    expect(new Set(list.map((i) => i.url))).toEqual(new Set(['wss://tunnel.example.test']))
    await expect(
      resolveInstances({ cf: { url: 'wss://x', appGuid: 'not-a-guid', instances: 1 } }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    await expect(resolveInstances({ cf: { url: 'wss://x', appGuid: guid, instances: 0 } })).rejects.toThrow(
      RangeError,
    )
  })

  it('headless service: one instance per distinct A record, Host header keeps the service name', async () => {
    const list = await resolveInstances({
      dns: 'ws://tunnel-headless.ns.svc.cluster.local:8080/tunnel',
      dnsServers: [dns.server],
    })
    expect(list.map((i) => i.url)).toEqual([
      'ws://127.0.0.1:8080/tunnel',
      'ws://127.0.0.2:8080/tunnel',
      'ws://127.0.0.3:8080/tunnel',
    ])
    expect(list[0]?.headers).toEqual({ Host: 'tunnel-headless.ns.svc.cluster.local:8080' })
    expect(dns.queries).toContain('tunnel-headless.ns.svc.cluster.local')
    await expect(
      resolveInstances({ dns: 'ws://missing.ns.svc.cluster.local', dnsServers: [dns.server] }),
    ).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
    })
  })
})
