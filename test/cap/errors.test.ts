import { describe, expect, it } from 'vitest'
import {
  remoteStatusError,
  statusForCode,
  transportError,
  unexpectedContentError,
} from '../../lib/cap/errors'
import { ConnectivityError, TunnelError } from '../../lib/errors'

const info = {
  service: 'API_SALES_ORDER_SRV',
  destination: 'S4',
  method: 'GET',
  path: '/A_SalesOrder?$top=1',
}

describe('CAP error mapping', () => {
  it.each([
    ['NO_AGENT', 503],
    ['TUNNEL_NO_AGENT', 503],
    ['TUNNEL_CLOSED', 503],
    ['CONNECT_FAILED', 503],
    ['PROXY_FAILED', 503],
    ['NO_HEALTHY_MEMBER', 503],
    ['HTTP_TIMEOUT', 504],
    ['CONNECT_TIMEOUT', 504],
    ['DESTINATION_NOT_FOUND', 502],
    ['ACCESS_DENIED', 502],
    ['TOKEN_MISSING', 502],
    ['PROXY_AUTH_FAILED', 502],
  ] as const)('%s → %i', (code, status) => {
    expect(statusForCode(code)).toBe(status)
    const e = transportError(new ConnectivityError(code, 'what failed.'), info)
    expect(e.status).toBe(status)
    expect(e.code).toBe(code)
    expect(e.message).toContain('"API_SALES_ORDER_SRV"')
    expect(e.message).toContain('"S4"')
  })

  it('adds what to try for an agent outage and keeps safe details in reason', () => {
    const e = transportError(
      new TunnelError('TUNNEL_NO_AGENT', 'No agent for location "dc1".', {
        details: { requestSent: false, location: 'dc1' },
      }),
      info,
    )
    expect(e.message).toMatch(/agent for this location running and connected/)
    expect(e.reason).toMatchObject({
      code: 'TUNNEL_NO_AGENT',
      details: { requestSent: false, location: 'dc1' },
    })
  })

  it('maps foreign errors to 502', () => {
    const e = transportError(new Error('socket hang up'), info)
    expect(e.status).toBe(502)
    expect(e.message).toContain('socket hang up')
  })

  it('reads OData V2 and V4 error bodies', () => {
    const v2 = remoteStatusError(
      400,
      { error: { code: 'X', message: { lang: 'en', value: 'Order 1 locked' } } },
      info,
    )
    expect(v2.status).toBe(502)
    expect(v2.message).toContain('answered 400: Order 1 locked')
    const v4 = remoteStatusError(404, { error: { code: '404', message: 'Not found' } }, info)
    expect(v4.message).toContain('answered 404: Not found')
    const text = remoteStatusError(500, 'x'.repeat(1000), info)
    expect(text.message.length).toBeLessThan(600)
  })

  it('names unexpected content types', () => {
    const e = unexpectedContentError('text/html; charset=utf-8', info)
    expect(e.status).toBe(502)
    expect(e.message).toContain('text/html')
    expect(e.message).not.toContain('charset')
  })
})
