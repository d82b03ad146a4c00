import { describe, expect, it } from 'vitest'
import { ConnectivityError, TunnelError } from '../../lib/errors'
import { classifyFailure, httpStatusFor, SocksReply, socksReplyFor } from '../../lib/tunnel/proxy'

describe('failure → HTTP status / SOCKS5 REP', () => {
  it.each([
    ['ACCESS_DENIED', 403, SocksReply.NOT_ALLOWED],
    ['TUNNEL_NO_AGENT', 503, SocksReply.NETWORK_UNREACHABLE],
    ['NO_AGENT', 503, SocksReply.NETWORK_UNREACHABLE],
    ['CONNECT_FAILED', 502, SocksReply.HOST_UNREACHABLE],
    ['CONNECT_TIMEOUT', 502, SocksReply.HOST_UNREACHABLE],
    ['TUNNEL_AUTH_FAILED', 403, SocksReply.CONNECTION_REFUSED],
    ['TUNNEL_CLOSED', 502, SocksReply.FAILURE],
    ['STREAM_RESET', 502, SocksReply.FAILURE],
  ] as const)('%s → %i / REP %i', (code, status, rep) => {
    const kind = classifyFailure(new TunnelError(code, 'x'))
    expect(httpStatusFor(kind)).toBe(status)
    expect(socksReplyFor(kind)).toBe(rep)
  })

  it('uses the wire reason of a reset stream, and treats foreign errors as generic failures', () => {
    expect(
      classifyFailure(new TunnelError('STREAM_RESET', 'x', { details: { reason: 'ACCESS_DENIED' } })),
    ).toBe('denied')
    expect(classifyFailure(new TunnelError('STREAM_RESET', 'x', { details: { reason: 'NO_AGENT' } }))).toBe(
      'no-agent',
    )
    expect(classifyFailure(new ConnectivityError('REQUEST_INVALID', 'x'))).toBe('bad-request')
    expect(classifyFailure(new Error('ECONNRESET'))).toBe('other')
    expect(classifyFailure(undefined)).toBe('other')
  })
})
