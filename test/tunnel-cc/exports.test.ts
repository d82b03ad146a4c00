import { describe, expect, it } from 'vitest'
import * as tunnel from '../../lib/tunnel/index'

describe('cap-connectivity/tunnel exports the Cloud Connector parity API', () => {
  it.each([
    'startLocalProxy',
    'HttpConnectivityProxy',
    'Socks5ConnectivityProxy',
    'createTokenAuthenticator',
    'trustedAuthenticator',
    'createPrincipalHook',
    'PrincipalPropagator',
    'CertificateIssuer',
    'createLocalCa',
    'ScaleOutAgent',
    'resolveInstances',
    'attachServiceChannels',
  ])('%s', (name) => {
    expect(typeof (tunnel as Record<string, unknown>)[name]).toBe('function')
  })
})
