import { describe, expect, it } from 'vitest'
import { TunnelError } from '../../lib/errors'
import { withoutStack } from '../../lib/tunnel/codes'

describe('withoutStack (peer-caused stream errors)', () => {
  it('builds the error without stack frames and keeps code, message and details', () => {
    const err = withoutStack(
      () => new TunnelError('STREAM_RESET', 'reset by the peer', { details: { reason: 'CANCEL' } }),
    )
    expect(err).toBeInstanceOf(TunnelError)
    expect(err.code).toBe('STREAM_RESET')
    expect(err.details.reason).toBe('CANCEL')
    expect(err.stack?.split('\n')).toEqual(['TunnelError: reset by the peer'])
  })

  it('restores Error.stackTraceLimit, also when building the error throws', () => {
    const before = Error.stackTraceLimit
    expect(() =>
      withoutStack(() => {
        throw new RangeError('boom')
      }),
    ).toThrow('boom')
    expect(Error.stackTraceLimit).toBe(before)
    expect(new Error('x').stack?.split('\n').length).toBeGreaterThan(1)
  })
})
