import { describe, expect, it } from 'vitest'
import { ConnectivityError, DestinationError, hasErrorCode, isConnectivityError } from '../lib/errors'

describe('ConnectivityError', () => {
  it('carries a stable code, safe details and the cause', () => {
    const cause = new Error('socket hang up')
    const err = new DestinationError('DESTINATION_NOT_FOUND', 'destination "S4" not found', {
      cause,
      details: { destination: 'S4' },
    })
    expect(err).toBeInstanceOf(ConnectivityError)
    expect(err.name).toBe('DestinationError')
    expect(err.code).toBe('DESTINATION_NOT_FOUND')
    expect(err.cause).toBe(cause)
    expect(err.details).toEqual({ destination: 'S4' })
    expect(Object.isFrozen(err.details)).toBe(true)
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'DestinationError',
      code: 'DESTINATION_NOT_FOUND',
      message: 'destination "S4" not found',
      details: { destination: 'S4' },
    })
  })

  it('is recognised across package copies by a global symbol, not instanceof', () => {
    const foreign = Object.assign(new Error('x'), { code: 'NO_AGENT' })
    Object.defineProperty(foreign, Symbol.for('cap-connectivity.error'), { value: true })
    expect(isConnectivityError(foreign)).toBe(true)
    expect(isConnectivityError(new Error('plain'))).toBe(false)
    expect(isConnectivityError(null)).toBe(false)
    expect(hasErrorCode(foreign, 'NO_AGENT')).toBe(true)
    expect(hasErrorCode(foreign, 'ACCESS_DENIED')).toBe(false)
  })
})
