/**
 * High availability: two agents (separate processes) serve one account + location; one is killed
 * with SIGKILL in the middle of a load of idempotent requests through the local HTTP proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDevToken } from '../../lib/tunnel/index'
import { startEchoHttp } from './fixtures/backends'
import { type Child, spawnProc } from './fixtures/spawn'
import { type Stack, startStack } from './fixtures/stack'
import { DEV_SECRET } from './fixtures/tokens'
import { loopbackRequest } from '../fixtures/http-client'

let stack: Stack
let backA: Awaited<ReturnType<typeof startEchoHttp>>
let backB: Awaited<ReturnType<typeof startEchoHttp>>
const children: Child[] = []

function agentSpec(name: string, backendPort: number) {
  return {
    role: 'agent',
    urls: [stack.url],
    token: createDevToken({ secret: DEV_SECRET, subject: name, account: 'acme' }),
    config: {
      locationId: 'ha',
      mappings: [
        {
          protocol: 'HTTP',
          virtualHost: 's4.virtual',
          virtualPort: 80,
          internalHost: '127.0.0.1',
          internalPort: backendPort,
          internalProtocol: 'http',
          resources: [{ path: '/', subPaths: true }],
        },
      ],
    },
  }
}

function get(path: string): Promise<number> {
  // -1: the request failed (socket or response error) instead of answering.
  return loopbackRequest(stack.proxy.httpPort as number, `http://s4.virtual${path}`, {
    headers: { 'SAP-Connectivity-SCC-Location_ID': 'ha' },
  }).then(
    (r) => r.status,
    () => -1,
  )
}

beforeAll(async () => {
  // A slow backend behind the agent that gets killed, so requests are surely in flight on it.
  backA = await startEchoHttp({ delayMs: 30 })
  backB = await startEchoHttp()
  stack = await startStack({ trustedAccount: 'acme' })
  children.push(await spawnProc(agentSpec('agent-a', backA.port)))
  children.push(await spawnProc(agentSpec('agent-b', backB.port)))
  // Both agents' mapping announcements must have arrived before the load starts.
  const until = Date.now() + 5000
  while (
    stack.server.agents('acme').filter((a) => a.locationId === 'ha' && a.mappings.length > 0).length < 2
  ) {
    if (Date.now() > until) throw new Error('agents did not announce their mappings')
    await new Promise((r) => setTimeout(r, 10))
  }
}, 60_000)
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')))
  await stack?.close()
  await backA?.close()
  await backB?.close()
})

describe('high availability: two agents for one location', () => {
  it('spreads streams over live agents; after one is killed mid-load no idempotent request fails', async () => {
    expect(stack.server.agents('acme').filter((a) => a.locationId === 'ha')).toHaveLength(2)
    const total = 400
    const statuses: number[] = []
    let next = 0
    let killedAt = -1
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++
        if (i === 150 && killedAt === -1) {
          killedAt = i
          children[0]?.proc.kill('SIGKILL')
        }
        statuses.push(await get(`/item/${i}`))
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    const failed = statuses.filter((s) => s !== 200)
    expect(failed).toEqual([])
    expect(statuses).toHaveLength(total)
    // Requests whose agent died before any response byte were sent again on the other agent.
    expect(stack.proxy.httpStats?.retried).toBeGreaterThan(0)
    expect(stack.proxy.httpStats?.failed).toBe(0)
    // Both agents served before the kill; only the survivor afterwards.
    expect(backA.seen.length).toBeGreaterThan(0)
    expect(backB.seen.length).toBeGreaterThan(0)
    const aAfter = backA.seen.length
    for (let i = 0; i < 20; i++) expect(await get('/after')).toBe(200)
    expect(backA.seen.length).toBe(aAfter)
    expect(stack.server.agents('acme').filter((a) => a.locationId === 'ha')).toHaveLength(1)
  })
})
