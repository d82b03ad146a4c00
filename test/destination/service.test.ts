import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { getDestination, registerDestination } from '../../lib/destination/resolve'
import type { HttpDestination } from '../../lib/destination/types'
import { userJwt } from '../fixtures/jwt'
import { CLIENT_SECRET, OTHER, PROVIDER, type ServiceEnv, SUBSCRIBER, startServiceEnv } from './service-env'

let env: ServiceEnv
const basic = (name: string, url = 'https://api.example.org') => ({
  config: {
    Name: name,
    Type: 'HTTP',
    URL: url,
    ProxyType: 'Internet',
    Authentication: 'BasicAuthentication',
    User: 'TECH',
    Password: 'pw',
  },
})

beforeAll(async () => {
  env = await startServiceEnv({
    [PROVIDER.zid]: {
      instance: [basic('SHARED', 'https://instance.example.org')],
      subaccount: [
        basic('SHARED', 'https://subaccount.example.org'),
        basic('PROVIDER_ONLY'),
        {
          config: {
            Name: 'S4_CC',
            Type: 'HTTP',
            URL: 'https://s4.example.org',
            Authentication: 'OAuth2ClientCredentials',
            tokenServiceURL: 'https://s4.example.org/oauth/token',
            clientId: 'c',
            clientSecret: 'SENTINEL-DEST-CONFIG-SECRET',
          },
          certificates: [{ Name: 'trust.pem', Content: 'LS0tLS1CRUdJTg==', Type: 'CERTIFICATE' }],
        },
        {
          config: {
            Name: 'S4_UTE',
            Type: 'HTTP',
            URL: 'https://s4.example.org',
            Authentication: 'OAuth2UserTokenExchange',
            tokenServiceURL: 'https://s4.example.org/oauth/token',
            clientId: 'c',
            clientSecret: 's',
          },
        },
        {
          config: {
            Name: 'REFRESH',
            Type: 'HTTP',
            URL: 'https://r.example.org',
            Authentication: 'OAuth2RefreshToken',
            tokenServiceURL: 'https://r.example.org/oauth/token',
            clientId: 'c',
          },
        },
        {
          config: {
            Name: 'S4_PP',
            Type: 'HTTP',
            URL: 'http://s4.virtual:44300',
            ProxyType: 'OnPremise',
            Authentication: 'PrincipalPropagation',
            CloudConnectorLocationId: 'LOC1',
            'sap-client': '100',
          },
        },
      ],
    },
    [SUBSCRIBER.zid]: { subaccount: [basic('SUB_ONLY'), basic('SHARED', 'https://subscriber.example.org')] },
    [OTHER.zid]: { subaccount: [] },
  })
})
afterAll(() => env.close())
beforeEach(() => env.reset())

describe('Destination service source', () => {
  it('finds a provider destination without a JWT (instance level before subaccount)', async () => {
    const d = (await getDestination('SHARED')) as HttpDestination
    expect(d).toMatchObject({
      source: 'service',
      origin: 'destination service (instance)',
      url: 'https://instance.example.org',
    })
    expect(env.xsuaa.requests).toEqual([
      expect.objectContaining({ tenant: PROVIDER.zid, grantType: 'client_credentials' }),
    ])
    expect(env.service.calls).toEqual([{ name: 'SHARED', tenant: PROVIDER.zid, skip: true }])
    expect((await getDestination('PROVIDER_ONLY')).origin).toBe('destination service (subaccount)')
  })

  it('looks up in the subscriber tenant of the JWT (token fetched from the subscriber subdomain)', async () => {
    const jwt = userJwt('alice', SUBSCRIBER.zid, SUBSCRIBER.subdomain)
    const d = (await getDestination('SHARED', { jwt })) as HttpDestination
    expect(d.url).toBe('https://subscriber.example.org')
    expect(env.xsuaa.requests[0]?.host).toMatch(/^subscriber\.localhost:/)
    expect(env.service.calls[0]).toMatchObject({ tenant: SUBSCRIBER.zid })
    // a provider-only destination is not visible to the subscriber (no silent provider fallback)
    await expect(getDestination('PROVIDER_ONLY', { jwt })).rejects.toMatchObject({
      code: 'DESTINATION_NOT_FOUND',
    })
  })

  it('selects a tenant given without a JWT by x-zid', async () => {
    const d = await getDestination('SUB_ONLY', { tenant: SUBSCRIBER.zid })
    expect(d.name).toBe('SUB_ONLY')
    expect(env.xsuaa.requests[0]?.xZid).toBe(SUBSCRIBER.zid)
  })

  it('maps authTokens and certificates of a client-credentials destination (two-step find)', async () => {
    const d = await getDestination('S4_CC')
    expect(env.service.calls.map((c) => c.skip)).toEqual([true, false])
    expect(env.service.calls.some((c) => c.userToken)).toBe(false)
    expect(d.authTokens).toHaveLength(1)
    expect(d.authTokens?.[0]).toMatchObject({ type: 'bearer', httpHeader: { key: 'Authorization' } })
    expect(d.authTokens?.[0]?.httpHeader.value).toMatch(/^Bearer cc-S4_CC-provider-zone-/)
    expect(d.authTokens?.[0]?.expiresAt).toBeGreaterThan(Date.now() + 3500_000)
    expect(d.certificates).toEqual([{ name: 'trust.pem', content: 'LS0tLS1CRUdJTg==', type: 'CERTIFICATE' }])
  })

  it('sends X-user-token for a user token exchange and gets the user’s token', async () => {
    const jwt = userJwt('bob', PROVIDER.zid, PROVIDER.subdomain)
    const d = await getDestination('S4_UTE', { jwt })
    const exchange = env.service.calls.find((c) => !c.skip)
    expect(exchange).toMatchObject({ user: 'bob', userToken: jwt })
    expect(d.authTokens?.[0]?.value).toMatch(/^user-bob-/)
  })

  it('resolves user-dependent destinations without a JWT (no tokens, no exchange attempt)', async () => {
    const pp = await getDestination('S4_PP')
    expect(pp).toMatchObject({
      authentication: 'PrincipalPropagation',
      proxyType: 'OnPremise',
      locationId: 'LOC1',
      sapClient: '100',
    })
    const ute = await getDestination('S4_UTE')
    expect(ute.authTokens).toBeUndefined()
    expect(env.service.calls.every((c) => c.skip && !c.userToken)).toBe(true)
  })

  it('does not ask for tokens that need caller input (refresh token, authorization code)', async () => {
    const d = await getDestination('REFRESH', { jwt: userJwt('erin', PROVIDER.zid, PROVIDER.subdomain) })
    expect(d.authentication).toBe('OAuth2RefreshToken')
    expect(env.service.calls).toEqual([{ name: 'REFRESH', tenant: PROVIDER.zid, skip: true }])
  })

  it('raises DESTINATION_SERVICE_FAILED listing the token errors when every token failed', async () => {
    env.service.tokenErrors.add('S4_CC')
    const err = await getDestination('S4_CC').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DESTINATION_SERVICE_FAILED' })
    expect((err as Error).message).toContain(
      'token service of S4_CC answered 401 (invalid_client); no fallback token',
    )
  })

  it('raises DESTINATION_SERVICE_FAILED with status and ErrorMessage for other failures', async () => {
    env.service.failures.set('SHARED', { status: 500, message: 'Internal error in destination store' })
    await expect(getDestination('SHARED')).rejects.toMatchObject({
      code: 'DESTINATION_SERVICE_FAILED',
      details: { status: 500, destination: 'SHARED' },
      message: expect.stringContaining('HTTP 500: Internal error in destination store'),
    })
  })

  it('treats 404 as not found and lists the sources searched', async () => {
    const err = (await getDestination('MISSING').catch((e: unknown) => e)) as Error
    expect(err).toMatchObject({ code: 'DESTINATION_NOT_FOUND' })
    expect(err.message).toMatch(
      /registry, file .*destinations\.json \(absent\), env "destinations" \(unset\), destination service "my-destination"/,
    )
  })

  it('reports a failing token endpoint as TOKEN_FETCH_FAILED without the client secret', async () => {
    env.xsuaa.failWith = { status: 401, error: 'invalid_client', description: 'Bad credentials' }
    const err = await getDestination('SHARED').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'TOKEN_FETCH_FAILED' })
    expect(JSON.stringify(err) + String(err)).not.toContain(CLIENT_SECRET)
    expect(env.service.calls).toHaveLength(0)
  })

  it('prefers earlier sources: a registered destination never reaches the service', async () => {
    registerDestination({ Name: 'SHARED', Type: 'HTTP', URL: 'http://registered.local' })
    expect((await getDestination('SHARED')).source).toBe('registry')
    expect(env.service.calls).toHaveLength(0)
    expect(env.xsuaa.requests).toHaveLength(0)
  })

  it('sends no request at all without a destination binding', async () => {
    const vcap = process.env.VCAP_SERVICES
    delete process.env.VCAP_SERVICES
    try {
      const err = (await getDestination('SHARED').catch((e: unknown) => e)) as Error
      expect(err.message).toContain('destination service (no "destination" binding)')
      expect(env.service.calls).toHaveLength(0)
      expect(env.xsuaa.requests).toHaveLength(0)
    } finally {
      process.env.VCAP_SERVICES = vcap
    }
  })
})
