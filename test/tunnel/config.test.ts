import { describe, expect, it } from 'vitest'
import { findMapping, type HttpMapping, internalPort, parseAgentConfig } from '../../lib/tunnel/agent-config'
import { HostPortAllowlist, parseHostPortRule } from '../../lib/tunnel/allowlist'
import { Backoff } from '../../lib/tunnel/backoff'
import { parseForwardSpec } from '../../lib/tunnel/forward'
import { hostMatches, normaliseTarget, pathAllowed } from '../../lib/tunnel/http-guard'

const doc = {
  locationId: 'loc',
  trust: { secret: 'kept for extensions' },
  mappings: [
    {
      protocol: 'HTTP',
      virtualHost: 'S4.Virtual',
      virtualPort: 44300,
      internalHost: '127.0.0.1',
      internalPort: 8081,
      internalProtocol: 'http',
      resources: [
        { path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV', subPaths: true },
        { path: '/inactive', subPaths: true, active: false },
      ],
      principalPropagation: { mode: 'header' },
    },
    {
      protocol: 'TCP',
      virtualHost: 'db.virtual',
      virtualPort: '3306-3308',
      internalHost: '10.0.0.5',
      internalPort: '13306-13308',
    },
    {
      protocol: 'TCP',
      virtualHost: 'one.virtual',
      virtualPort: '100-110',
      internalHost: 'h',
      internalPort: 5000,
    },
  ],
}

describe('agent.json', () => {
  const cfg = parseAgentConfig(doc)
  it('parses mappings, keeps unknown keys in raw, lower-cases virtual hosts', () => {
    expect(cfg.locationId).toBe('loc')
    expect(cfg.raw.trust).toEqual({ secret: 'kept for extensions' })
    const http = findMapping(cfg, 's4.VIRTUAL', 44300) as HttpMapping
    expect(http.protocol).toBe('HTTP')
    expect(http.raw.principalPropagation).toEqual({ mode: 'header' })
    expect(http.resources).toHaveLength(1) // inactive resource dropped
    expect(http.hostInHeader).toBe('internal')
  })

  it('TCP port ranges map position by position, or onto one port', () => {
    const db = findMapping(cfg, 'db.virtual', 3307)
    expect(db && internalPort(db, 3307)).toBe(13307)
    expect(findMapping(cfg, 'db.virtual', 3309)).toBeUndefined()
    const one = findMapping(cfg, 'one.virtual', 105)
    expect(one && internalPort(one, 105)).toBe(5000)
  })

  const bad: [string, unknown][] = [
    ['not an object', []],
    ['no mappings', { locationId: '' }],
    [
      'bad protocol',
      {
        mappings: [{ protocol: 'FTP', virtualHost: 'a', virtualPort: 1, internalHost: 'b', internalPort: 1 }],
      },
    ],
    [
      'bad port',
      {
        mappings: [
          { protocol: 'TCP', virtualHost: 'a', virtualPort: 70000, internalHost: 'b', internalPort: 1 },
        ],
      },
    ],
    [
      'range size differs',
      {
        mappings: [
          { protocol: 'TCP', virtualHost: 'a', virtualPort: '1-3', internalHost: 'b', internalPort: '5-6' },
        ],
      },
    ],
    [
      'HTTP without resources',
      {
        mappings: [
          { protocol: 'HTTP', virtualHost: 'a', virtualPort: 1, internalHost: 'b', internalPort: 1 },
        ],
      },
    ],
    [
      'resource path with query',
      {
        mappings: [
          {
            protocol: 'HTTP',
            virtualHost: 'a',
            virtualPort: 1,
            internalHost: 'b',
            internalPort: 1,
            resources: [{ path: '/a?b' }],
          },
        ],
      },
    ],
  ]
  for (const [name, d] of bad) {
    it(`rejects: ${name}`, () => {
      expect(() => parseAgentConfig(d, 'agent.json')).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      )
    })
  }
})

describe('HTTP access check', () => {
  const m = parseAgentConfig(doc).mappings[0] as HttpMapping
  it('normalises unreserved escapes, keeps the query apart', () => {
    expect(normaliseTarget('/sap/%6Fpu?x=%2e%2e')).toEqual({ ok: true, path: '/sap/opu', query: '?x=%2e%2e' })
    expect(normaliseTarget('/a%20b')).toMatchObject({ ok: true, path: '/a%20b' })
  })
  for (const t of [
    '/a/../b',
    '/a/./b',
    '/a/%2e%2e/b',
    '/a/%2E/b',
    '/a%2fb',
    '/a%5cb',
    '/a\\b',
    '/a/%252e%252e',
    '/a%zz',
    'http://x/a',
    '*',
  ]) {
    it(`refuses ${t}`, () => expect(normaliseTarget(t).ok).toBe(false))
  }
  it('matches sub-paths as a plain prefix, case-sensitively', () => {
    expect(pathAllowed(m, '/sap/opu/odata/sap/API_SALES_ORDER_SRV')).toBe(true)
    expect(pathAllowed(m, '/sap/opu/odata/sap/API_SALES_ORDER_SRV_X')).toBe(true)
    expect(pathAllowed(m, '/sap/opu/odata/sap/api_sales_order_srv')).toBe(false)
    expect(pathAllowed(m, '/sap/opu/odata/sap/')).toBe(false)
  })
  it('checks Host against the virtual host and port', () => {
    expect(hostMatches(m, 's4.virtual:44300')).toBe(true)
    expect(hostMatches(m, 'S4.VIRTUAL:44300')).toBe(true)
    expect(hostMatches(m, 's4.virtual')).toBe(false)
    expect(hostMatches(m, 'other:44300')).toBe(false)
    expect(hostMatches(m, undefined)).toBe(false)
  })
})

describe('server allowlist, forward specs, backoff', () => {
  it('allows host:port and ranges, denies by default', () => {
    const a = new HostPortAllowlist(['db.internal:5432', '10.0.0.1:8000-8099', '[::1]:22'])
    expect(a.allows('DB.internal', 5432)).toBe(true)
    expect(a.allows('db.internal', 5433)).toBe(false)
    expect(a.allows('10.0.0.1', 8050)).toBe(true)
    expect(a.allows('::1', 22)).toBe(true)
    expect(new HostPortAllowlist().allows('x', 1)).toBe(false)
    expect(() => parseHostPortRule('nohost')).toThrow(RangeError)
    expect(() => parseHostPortRule('h:9-1')).toThrow(RangeError)
  })

  it('parses [localHost:]localPort:host:port', () => {
    expect(parseForwardSpec('10000:db.virtual:3306')).toEqual({
      localHost: '127.0.0.1',
      localPort: 10000,
      host: 'db.virtual',
      port: 3306,
    })
    expect(parseForwardSpec('[::1]:0:h:1')).toEqual({ localHost: '::1', localPort: 0, host: 'h', port: 1 })
    expect(() => parseForwardSpec('10000:db')).toThrow(RangeError)
    expect(() => parseForwardSpec('x:h:1')).toThrow(RangeError)
  })

  it('backoff grows exponentially with jitter and caps', () => {
    const b = new Backoff({ minMs: 100, maxMs: 1000 })
    const d = Array.from({ length: 8 }, () => b.next())
    expect(d[0]).toBeGreaterThanOrEqual(50)
    expect(d[0]).toBeLessThanOrEqual(100)
    expect(d[3]).toBeGreaterThanOrEqual(400)
    expect(Math.max(...d)).toBeLessThanOrEqual(1000)
    b.reset()
    expect(b.next()).toBeLessThanOrEqual(100)
  })
})
