import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DestinationCache } from '../../lib/destination/cache'
import { parseDestination } from '../../lib/destination/parse'
import { clearDestinationCache, configureDestinations, getDestination } from '../../lib/destination/resolve'
import { userJwt } from '../fixtures/jwt'
import { OTHER, PROVIDER, type ServiceEnv, SUBSCRIBER, startServiceEnv } from './service-env'

let env: ServiceEnv
const ute = (name: string) => ({
  config: {
    Name: name,
    Type: 'HTTP',
    URL: 'https://s4.example.org',
    Authentication: 'OAuth2UserTokenExchange',
    tokenServiceURL: 'https://s4.example.org/oauth/token',
    clientId: 'c',
    clientSecret: 's',
  },
})
const cc = (name: string) => ({
  config: {
    Name: name,
    Type: 'HTTP',
    URL: `https://${name.toLowerCase()}.example.org`,
    Authentication: 'OAuth2ClientCredentials',
    tokenServiceURL: 'https://s4.example.org/oauth/token',
    clientId: 'c',
    clientSecret: 's',
  },
})
const plain = (name: string, url: string) => ({
  config: { Name: name, Type: 'HTTP', URL: url, Authentication: 'NoAuthentication' },
})

beforeAll(async () => {
  env = await startServiceEnv({
    [PROVIDER.zid]: {
      subaccount: [
        ute('UTE'),
        cc('CC'),
        plain('PLAIN', 'https://provider.example.org'),
        {
          config: {
            Name: 'SAML',
            Type: 'HTTP',
            URL: 'https://saml.example.org',
            Authentication: 'SAMLAssertion',
          },
        },
      ],
    },
    [SUBSCRIBER.zid]: { subaccount: [ute('UTE'), plain('PLAIN', 'https://subscriber.example.org')] },
    [OTHER.zid]: { subaccount: [plain('PLAIN', 'https://other.example.org')] },
  })
})
afterAll(() => env.close())
beforeEach(() => env.reset())

describe('destination cache', () => {
  it('never gives one user another user’s entry, nor one tenant another tenant’s', async () => {
    const alice = userJwt('alice', PROVIDER.zid, PROVIDER.subdomain)
    const bob = userJwt('bob', PROVIDER.zid, PROVIDER.subdomain)
    const carol = userJwt('carol', SUBSCRIBER.zid, SUBSCRIBER.subdomain)
    for (let round = 0; round < 2; round++) {
      expect((await getDestination('UTE', { jwt: alice })).authTokens?.[0]?.value).toMatch(/^user-alice-/)
      expect((await getDestination('UTE', { jwt: bob })).authTokens?.[0]?.value).toMatch(/^user-bob-/)
      expect((await getDestination('UTE', { jwt: carol })).authTokens?.[0]?.value).toMatch(/^user-carol-/)
    }
    // one lookup (two calls: skip + exchange) per user, the second round came from the cache
    expect(env.service.calls.filter((c) => !c.skip).map((c) => c.user)).toEqual(['alice', 'bob', 'carol'])

    const urls = await Promise.all([
      getDestination('PLAIN'),
      getDestination('PLAIN', { jwt: carol }),
      getDestination('PLAIN', { tenant: OTHER.zid }),
      getDestination('PLAIN', { jwt: alice }),
    ])
    expect(urls.map((d) => (d.type === 'HTTP' ? d.url : ''))).toEqual([
      'https://provider.example.org',
      'https://subscriber.example.org',
      'https://other.example.org',
      'https://provider.example.org',
    ])
  })

  it('shares a tenant entry between users for user-independent destinations', async () => {
    await getDestination('CC', { jwt: userJwt('alice', PROVIDER.zid, PROVIDER.subdomain) })
    await getDestination('CC', { jwt: userJwt('bob', PROVIDER.zid, PROVIDER.subdomain) })
    await getDestination('CC')
    expect(env.service.calls.filter((c) => !c.skip)).toHaveLength(1)
  })

  it('100 concurrent lookups of one uncached name make exactly one service lookup', async () => {
    env.service.delayMs = 20
    const all = await Promise.all(Array.from({ length: 100 }, () => getDestination('PLAIN')))
    expect(new Set(all).size).toBe(1)
    expect(env.service.calls).toHaveLength(1)
    expect(env.xsuaa.requests).toHaveLength(1)
    const tokens = await Promise.all(Array.from({ length: 100 }, () => getDestination('CC')))
    expect(new Set(tokens.map((d) => d.authTokens?.[0]?.value)).size).toBe(1)
    expect(env.service.calls.filter((c) => c.name === 'CC')).toHaveLength(2) // one find = skip call + token call
  })

  it('refreshes an entry before its token expires (margin before the earliest expiry)', async () => {
    env.service.tokenLifetime = 63 // with the 60 s margin the entry lives ~3 s
    const first = await getDestination('CC')
    expect((await getDestination('CC')).authTokens?.[0]?.value).toBe(first.authTokens?.[0]?.value)
    await new Promise((r) => setTimeout(r, 3100))
    const second = await getDestination('CC')
    expect(second.authTokens?.[0]?.value).not.toBe(first.authTokens?.[0]?.value)
    // a token that already is inside the margin is never cached
    env.service.tokenLifetime = 30
    await getDestination('CC', { useCache: false })
    const before = env.service.calls.length
    await getDestination('CC')
    expect(env.service.calls.length).toBe(before + 2)
  })

  it('never caches SAMLAssertion and bypasses the cache with useCache:false', async () => {
    const jwt = userJwt('dave', PROVIDER.zid, PROVIDER.subdomain)
    await getDestination('SAML', { jwt })
    await getDestination('SAML', { jwt })
    expect(env.service.calls.filter((c) => c.name === 'SAML' && !c.skip)).toHaveLength(2)
    await getDestination('PLAIN')
    await getDestination('PLAIN', { useCache: false })
    await getDestination('PLAIN')
    expect(env.service.calls.filter((c) => c.name === 'PLAIN')).toHaveLength(2)
  })

  it('honours cacheSize (LRU) and cacheMarginSeconds from configureDestinations', async () => {
    configureDestinations({ root: env.root, cacheSize: 0 })
    await getDestination('PLAIN')
    await getDestination('PLAIN')
    expect(env.service.calls).toHaveLength(2)
    configureDestinations({ root: env.root, cacheMarginSeconds: 0 })
    env.service.tokenLifetime = 30
    env.service.calls.length = 0
    await getDestination('CC')
    await getDestination('CC')
    expect(env.service.calls).toHaveLength(2)
    clearDestinationCache()
    await getDestination('CC')
    expect(env.service.calls).toHaveLength(4)
  })
})

describe('DestinationCache (unit)', () => {
  const dest = (name: string) => parseDestination({ Name: name, URL: 'https://x.org' })
  const id = { tenant: 't', user: undefined }

  it('evicts the least recently used entry', () => {
    const c = new DestinationCache(2, 60_000)
    c.set('A', dest('A'), id)
    c.set('B', dest('B'), id)
    expect(c.get('A', id)).toBeDefined() // A is now most recent
    c.set('C', dest('C'), id)
    expect(c.get('B', id)).toBeUndefined()
    expect(c.get('A', id)).toBeDefined()
    expect(c.size).toBe(2)
  })

  it('does not cache a user-dependent destination without a user, nor serve it to the tenant', () => {
    const c = new DestinationCache(10, 60_000)
    const pp = parseDestination({
      Name: 'PP',
      URL: 'http://v:1',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
    })
    c.set('PP', pp, id)
    expect(c.size).toBe(0)
    c.set('PP', pp, { tenant: 't', user: 'u1' })
    expect(c.get('PP', { tenant: 't', user: 'u1' })).toBe(pp)
    expect(c.get('PP', { tenant: 't', user: 'u2' })).toBeUndefined()
    expect(c.get('PP', id)).toBeUndefined()
    expect(c.get('PP', { tenant: 't2', user: 'u1' })).toBeUndefined()
  })
})
