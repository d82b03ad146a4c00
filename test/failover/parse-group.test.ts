import { describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { parseGroup } from '../../lib/failover/parse-group'
import { formatStatusRanges, matchesStatus, parseStatusRange } from '../../lib/failover/status-range'

const seed = {
  name: 'CPI',
  routing: 'priority',
  members: [
    { destination: 'CPI_US21', priority: 2 },
    { destination: 'CPI_EU20', priority: 1 },
  ],
  probe: {
    path: '/http/health',
    method: 'GET',
    expectedStatus: ['200-299', '401'],
    intervalSeconds: 30,
    timeoutSeconds: 10,
    toleratedFailures: 2,
    headers: {},
    sendCredentials: false,
  },
  failback: true,
  retryOn: ['connect-error', 'timeout', '503'],
}

function invalid(raw: unknown, known?: string[]): Error & { details: Record<string, unknown> } {
  try {
    parseGroup(raw, {
      origin: '/app/destinations.json',
      ...(known ? { knownDestinations: new Set(known) } : {}),
    })
  } catch (err) {
    expect(hasErrorCode(err, 'DESTINATION_INVALID')).toBe(true)
    return err as Error & { details: Record<string, unknown> }
  }
  throw new Error('expected DESTINATION_INVALID')
}

describe('status ranges', () => {
  it('parses single codes and ranges as in Traffic Manager', () => {
    expect(parseStatusRange('200-299')).toEqual({ from: 200, to: 299 })
    expect(parseStatusRange('401')).toEqual({ from: 401, to: 401 })
    expect(parseStatusRange(204)).toEqual({ from: 204, to: 204 })
    for (const bad of ['2xx', '299-200', '600', '99', '', '200-', 200.5, null])
      expect(parseStatusRange(bad)).toBeUndefined()
    const r = [parseStatusRange('200-299'), parseStatusRange('401')].filter((x) => x !== undefined)
    expect(matchesStatus(204, r)).toBe(true)
    expect(matchesStatus(401, r)).toBe(true)
    expect(matchesStatus(403, r)).toBe(false)
    expect(formatStatusRanges(r)).toBe('200-299, 401')
  })
})

describe('parseGroup', () => {
  it('accepts the seed example and sorts members by priority', () => {
    const g = parseGroup(seed, { knownDestinations: new Set(['CPI_EU20', 'CPI_US21']) })
    expect(g.members.map((m) => m.destination)).toEqual(['CPI_EU20', 'CPI_US21'])
    expect(g.probe).toMatchObject({
      path: '/http/health',
      method: 'GET',
      intervalMs: 30_000,
      timeoutMs: 10_000,
      toleratedFailures: 2,
      requiredSuccesses: 1,
      sendCredentials: false,
    })
    expect(g.probe.expectedStatus).toEqual([
      { from: 200, to: 299 },
      { from: 401, to: 401 },
    ])
    expect(g.retryOn).toEqual(['connect-error', 'timeout', 503])
    expect(g.failback).toBe(true)
    expect(Object.isFrozen(g)).toBe(true)
  })

  it('applies defaults: priority routing by declaration order, TM-like probe settings', () => {
    const g = parseGroup({ name: 'G', members: [{ destination: 'B' }, { destination: 'A' }] })
    expect(g.routing).toBe('priority')
    expect(g.members.map((m) => `${m.destination}:${m.priority}`)).toEqual(['B:1', 'A:2'])
    expect(g.probe).toMatchObject({
      path: '/',
      intervalMs: 30_000,
      timeoutMs: 10_000,
      toleratedFailures: 3,
      sendCredentials: false,
    })
    expect(g.retryOn).toEqual(['connect-error', 'timeout'])
    expect(
      parseGroup({
        name: 'W',
        routing: 'weighted',
        members: [{ destination: 'A', weight: 3 }, { destination: 'B' }],
      }).members.map((m) => m.weight),
    ).toEqual([3, 1])
  })

  it.each([
    ['not an object', 'x', /expected an object/],
    ['bad name', { name: 'a b', members: [{ destination: 'A' }] }, /"name"/],
    ['no members', { name: 'G', members: [] }, /"members" must be an array/],
    [
      'unknown routing',
      { name: 'G', routing: 'geo', members: [{ destination: 'A' }] },
      /"priority" or "weighted"/,
    ],
    [
      'duplicate member',
      { name: 'G', members: [{ destination: 'A' }, { destination: 'A' }] },
      /listed twice/,
    ],
    [
      'duplicate priorities',
      {
        name: 'G',
        members: [
          { destination: 'A', priority: 1 },
          { destination: 'B', priority: 1 },
        ],
      },
      /same priority 1/,
    ],
    [
      'partial priorities',
      { name: 'G', members: [{ destination: 'A', priority: 1 }, { destination: 'B' }] },
      /every member/,
    ],
    [
      'bad weight',
      { name: 'G', routing: 'weighted', members: [{ destination: 'A', weight: 0 }] },
      /weight must be an integer/,
    ],
    ['self reference', { name: 'G', members: [{ destination: 'G' }] }, /the group itself/],
    [
      'bad range',
      { name: 'G', members: [{ destination: 'A' }], probe: { expectedStatus: ['2xx'] } },
      /"2xx" is not a status or range/,
    ],
    [
      'reversed range',
      { name: 'G', members: [{ destination: 'A' }], probe: { expectedStatus: ['299-200'] } },
      /"299-200"/,
    ],
    [
      'unsafe probe method',
      { name: 'G', members: [{ destination: 'A' }], probe: { method: 'POST' } },
      /GET, HEAD or OPTIONS/,
    ],
    [
      'timeout not below interval',
      { name: 'G', members: [{ destination: 'A' }], probe: { intervalSeconds: 5, timeoutSeconds: 5 } },
      /must be less than probe.intervalSeconds/,
    ],
    [
      'bad tolerated',
      { name: 'G', members: [{ destination: 'A' }], probe: { toleratedFailures: 0 } },
      /toleratedFailures/,
    ],
    [
      'relative path',
      { name: 'G', members: [{ destination: 'A' }], probe: { path: 'health' } },
      /start with "\/"/,
    ],
    [
      'header injection',
      { name: 'G', members: [{ destination: 'A' }], probe: { headers: { 'X-A': 'a\r\nB: c' } } },
      /single-line/,
    ],
    [
      'typo in probe',
      { name: 'G', members: [{ destination: 'A' }], probe: { intervalSecond: 5 } },
      /unknown property "intervalSecond"/,
    ],
    [
      'typo in group',
      { name: 'G', members: [{ destination: 'A' }], failBack: true },
      /unknown property "failBack"/,
    ],
    ['bad retryOn', { name: 'G', members: [{ destination: 'A' }], retryOn: ['5xx'] }, /retryOn entry "5xx"/],
    [
      'bad failback',
      { name: 'G', members: [{ destination: 'A' }], failback: 'yes' },
      /"failback" must be a boolean/,
    ],
  ])('rejects %s', (_label, raw, message) => {
    const err = invalid(raw)
    expect(err.message).toMatch(message)
    expect(err.message).toMatch(/\/app\/destinations\.json/)
  })

  it('rejects a member that is not a destination of the file, naming group, member and file', () => {
    const err = invalid(seed, ['CPI_EU20'])
    expect(err.message).toBe(
      'Destination group "CPI" (/app/destinations.json): member "CPI_US21" is not a destination of this file; declare it under "destinations".',
    )
    expect(err.details).toMatchObject({
      group: 'CPI',
      origin: '/app/destinations.json',
      property: 'members[0].destination',
    })
  })

  it('never echoes probe header values (they may carry a secret) in errors', () => {
    const secret = 'Basic c2VudGluZWwtc2VjcmV0'
    const err = invalid({
      name: 'G',
      members: [{ destination: 'A' }],
      probe: { headers: { Authorization: `${secret}\n` } },
    })
    expect(err.message).not.toContain('c2VudGluZWwtc2VjcmV0')
    expect(JSON.stringify(err)).not.toContain('c2VudGluZWwtc2VjcmV0')
  })
})
