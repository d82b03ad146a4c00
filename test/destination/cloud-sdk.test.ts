import type { Destination as SdkDestination } from '@sap-cloud-sdk/connectivity'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type CloudSdkDestination,
  fromCloudSdkDestination,
  toCloudSdkDestination,
} from '../../lib/destination/cloud-sdk'
import { parseDestination } from '../../lib/destination/parse'
import type { HttpDestination } from '../../lib/destination/types'

describe('Cloud SDK conversion', () => {
  it('our structural type is assignable to the SDK Destination and back', () => {
    expectTypeOf<CloudSdkDestination>().toExtend<SdkDestination>()
    expectTypeOf<SdkDestination>().toExtend<CloudSdkDestination>()
  })

  it('converts an HTTP destination with credentials, headers, queries and tokens', () => {
    const ours = parseDestination({
      Name: 'S4',
      Type: 'HTTP',
      URL: 'https://s4.example.org',
      ProxyType: 'OnPremise',
      Authentication: 'BasicAuthentication',
      User: 'u',
      Password: 'p',
      CloudConnectorLocationId: 'L',
      'sap-client': '100',
      TrustAll: 'TRUE',
      'URL.headers.x-a': '1',
      'URL.queries.q': '2',
      KeyStoreLocation: 'k.p12',
      KeyStorePassword: 'kp',
    })
    const sdk = toCloudSdkDestination(ours)
    expect(sdk).toMatchObject({
      name: 'S4',
      type: 'HTTP',
      url: 'https://s4.example.org',
      proxyType: 'OnPremise',
      authentication: 'BasicAuthentication',
      username: 'u',
      password: 'p',
      cloudConnectorLocationId: 'L',
      sapClient: '100',
      isTrustingAllCertificates: true,
      headers: { 'x-a': '1' },
      queryParameters: { q: '2' },
      keyStoreName: 'k.p12',
      keyStorePassword: 'kp',
    })
    expect(sdk.originalProperties?.['URL.headers.x-a']).toBe('1')
    const back = fromCloudSdkDestination(sdk) as HttpDestination
    expect(back).toMatchObject({
      name: 'S4',
      url: 'https://s4.example.org',
      proxyType: 'OnPremise',
      locationId: 'L',
      sapClient: '100',
      headers: { 'x-a': '1' },
      queries: { q: '2' },
      credentials: { user: 'u', password: 'p' },
      source: 'object',
    })
    expect(back.tls.trustAll).toBe(true)
  })

  it('reads a Destination-service-shaped SDK destination with auth tokens and certificates', () => {
    const sdk: SdkDestination = {
      name: 'CC',
      url: 'https://api.example.org/',
      authentication: 'OAuth2ClientCredentials',
      authTokens: [
        { type: '', value: '', error: 'first failed', http_header: { key: 'Authorization', value: '' } },
        {
          type: 'bearer',
          value: 'tok',
          expiresIn: '3600',
          error: null,
          http_header: { key: 'Authorization', value: 'Bearer tok' },
        },
      ],
      certificates: [{ name: 'c.pem', content: 'AAAA', type: 'CERTIFICATE' }],
      originalProperties: {
        Name: 'CC',
        URL: 'https://api.example.org/',
        Authentication: 'OAuth2ClientCredentials',
        scope: 'read',
      },
    }
    const d = fromCloudSdkDestination(sdk)
    expect(d.authTokens?.[1]).toMatchObject({
      type: 'bearer',
      value: 'tok',
      httpHeader: { value: 'Bearer tok' },
    })
    expect(d.authTokens?.[1]?.expiresAt).toBeGreaterThan(Date.now() + 3500_000)
    expect(d.authTokens?.[0]?.error).toBe('first failed')
    expect(d.certificates).toEqual([{ name: 'c.pem', content: 'AAAA', type: 'CERTIFICATE' }])
    const again = toCloudSdkDestination(d)
    expect(again.authTokens?.[1]).toMatchObject({
      value: 'tok',
      error: null,
      http_header: { key: 'Authorization', value: 'Bearer tok' },
    })
    expect(Number(again.authTokens?.[1]?.expiresIn)).toBeGreaterThan(3590)
  })

  it('keeps TCP and SDK-unknown authentications in originalProperties only', () => {
    const tcp = toCloudSdkDestination(parseDestination({ Name: 'PG', Type: 'TCP', Address: 'db:5432' }))
    expect(tcp.type).toBeUndefined()
    expect(tcp.originalProperties).toMatchObject({ Type: 'TCP', Address: 'db:5432' })
    expect(fromCloudSdkDestination(tcp)).toMatchObject({ type: 'TCP', address: { host: 'db', port: 5432 } })
    const tup = toCloudSdkDestination(
      parseDestination({
        Name: 'T',
        URL: 'https://x',
        Authentication: 'OAuth2TechnicalUserPropagation',
        tokenServiceURL: 'https://t',
        clientId: 'c',
        clientSecret: 's',
      }),
    )
    expect(tup.authentication).toBeUndefined()
    expect(fromCloudSdkDestination(tup).authentication).toBe('OAuth2TechnicalUserPropagation')
  })

  it('names an unnamed SDK destination and validates like parseDestination', () => {
    expect(fromCloudSdkDestination({ url: 'https://x.org' }).name).toBe('unnamed')
    expect(() => fromCloudSdkDestination({ name: 'B', url: 'not-a-url' })).toThrow(
      expect.objectContaining({ code: 'DESTINATION_INVALID' }),
    )
  })

  it('round-trips through the real SDK registry without loading anything of ours into it', async () => {
    const sdkModule = await import('@sap-cloud-sdk/connectivity')
    const ours = parseDestination({
      Name: 'REG',
      URL: 'https://reg.example.org',
      User: 'u',
      Password: 'p',
      'sap-client': '300',
    })
    await sdkModule.registerDestination(
      toCloudSdkDestination(ours) as SdkDestination & { name: string; url: string },
    )
    const fetched = await sdkModule.getDestination({ destinationName: 'REG' })
    expect(fetched).not.toBeNull()
    const back = fromCloudSdkDestination(fetched as CloudSdkDestination) as HttpDestination
    expect(back).toMatchObject({
      name: 'REG',
      url: 'https://reg.example.org',
      sapClient: '300',
      authentication: 'BasicAuthentication',
    })
  })

  it('loading the package (dist, built by npm test) does not load the SDK', async () => {
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const m = require('./dist/index.js'); m.toCloudSdkDestination(m.parseDestination({ Name: 'A', URL: 'https://a' })); console.log(Object.keys(require.cache).filter((k) => k.includes('@sap-cloud-sdk')).length)",
      ],
      { cwd: `${__dirname}/../..`, encoding: 'utf8' },
    )
    expect(out.trim()).toBe('0')
  })
})
