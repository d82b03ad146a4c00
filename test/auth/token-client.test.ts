import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clearTokenCache, fetchToken, tokenUrlForTenant } from '../../lib/auth/token-client'
import { decodeJwt } from '../../lib/auth/jwt'
import { makeJwt, userJwt } from '../fixtures/jwt'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'

const SECRET = 'SENTINEL-CLIENT-SECRET-42'
let uaa: FakeXsuaa
let restoreDns: () => Promise<void>

beforeAll(async () => {
  restoreDns = installLoopbackDns()
  uaa = await startXsuaa({
    clientId: 'sb-dest',
    clientSecret: SECRET,
    provider: { zid: 'provider-zone', subdomain: 'provider' },
    subscribers: [{ zid: 'sub-zone', subdomain: 'subscriber' }],
  })
})
afterAll(async () => {
  await uaa.close()
  await restoreDns()
})
afterEach(() => {
  clearTokenCache()
  uaa.requests.length = 0
  uaa.expiresIn = 3600
  delete uaa.failWith
})

describe('tokenUrlForTenant', () => {
  it('keeps the provider URL without a JWT or for the provider zone, and appends /oauth/token', () => {
    expect(tokenUrlForTenant('https://prov.authentication.eu10.hana.ondemand.com')).toEqual({
      url: 'https://prov.authentication.eu10.hana.ondemand.com/oauth/token',
      headers: {},
    })
    const jwt = userJwt('u', 'provider-zone', 'prov')
    expect(
      tokenUrlForTenant(
        'https://prov.authentication.eu10.hana.ondemand.com/oauth/token/',
        jwt,
        'provider-zone',
      ).url,
    ).toBe('https://prov.authentication.eu10.hana.ondemand.com/oauth/token')
  })

  it('replaces the first host label with the subscriber subdomain', () => {
    const jwt = userJwt('u', 'sub-zone', 'subscriber')
    expect(
      tokenUrlForTenant('https://prov.authentication.eu10.hana.ondemand.com', jwt, 'provider-zone'),
    ).toEqual({
      url: 'https://subscriber.authentication.eu10.hana.ondemand.com/oauth/token',
      headers: {},
    })
  })

  it('keeps the host and sends x-zid when the token has no subdomain (IAS) or the host is an IP', () => {
    const ias = makeJwt({ app_tid: 'tenant-x', iss: 'https://t.accounts.ondemand.com' })
    expect(tokenUrlForTenant('https://prov.authentication.eu10.hana.ondemand.com', ias, 'p')).toEqual({
      url: 'https://prov.authentication.eu10.hana.ondemand.com/oauth/token',
      headers: { 'x-zid': 'tenant-x' },
    })
    expect(tokenUrlForTenant('http://127.0.0.1:8080', userJwt('u', 'z2', 'sd'), 'p').headers).toEqual({
      'x-zid': 'z2',
    })
  })
})

describe('fetchToken against a fake XSUAA', () => {
  it('gets a client-credentials token in the provider tenant and caches it', async () => {
    const req = {
      tokenUrl: `${uaa.url}/oauth/token`,
      grantType: 'client_credentials' as const,
      clientId: 'sb-dest',
      clientSecret: SECRET,
    }
    const t1 = await fetchToken(req)
    const t2 = await fetchToken(req)
    expect(t2).toBe(t1)
    expect(uaa.requests).toHaveLength(1)
    expect(decodeJwt(t1.accessToken).tenant).toBe('provider-zone')
    expect(t1.expiresAt).toBeGreaterThan(Date.now() + 3500_000)
    expect(t1.scope).toBe('uaa.resource')
  })

  it('fetches in the subscriber tenant via subdomain and via x-zid', async () => {
    const jwt = userJwt('u', 'sub-zone', 'subscriber')
    const t = tokenUrlForTenant(uaa.url, jwt, 'provider-zone')
    const token = await fetchToken({
      tokenUrl: t.url,
      headers: t.headers,
      grantType: 'client_credentials',
      clientId: 'sb-dest',
      clientSecret: SECRET,
    })
    expect(decodeJwt(token.accessToken).tenant).toBe('sub-zone')
    expect(uaa.requests[0]?.host).toMatch(/^subscriber\.localhost:/)
    const ip = tokenUrlForTenant(`http://127.0.0.1:${uaa.port}`, jwt, 'provider-zone')
    const t2 = await fetchToken({
      tokenUrl: ip.url,
      headers: ip.headers,
      grantType: 'client_credentials',
      clientId: 'sb-dest',
      clientSecret: SECRET,
    })
    expect(decodeJwt(t2.accessToken).tenant).toBe('sub-zone')
    expect(uaa.requests[1]?.xZid).toBe('sub-zone')
  })

  it('does the jwt-bearer exchange and sends Basic credentials when asked', async () => {
    const jwt = userJwt('carol', 'provider-zone', 'provider')
    const token = await fetchToken({
      tokenUrl: `${uaa.url}/oauth/token`,
      grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      clientId: 'sb-dest',
      clientSecret: SECRET,
      credentialsInBody: false,
      assertion: jwt,
    })
    expect(decodeJwt(token.accessToken).user).toBe('carol')
    expect(uaa.requests[0]).toMatchObject({ credentialsIn: 'basic', assertionUser: 'carol' })
  })

  it('shares one request between concurrent callers', async () => {
    const req = {
      tokenUrl: `${uaa.url}/oauth/token`,
      grantType: 'client_credentials' as const,
      clientId: 'sb-dest',
      clientSecret: SECRET,
    }
    const all = await Promise.all(Array.from({ length: 50 }, () => fetchToken(req)))
    expect(new Set(all.map((t) => t.accessToken)).size).toBe(1)
    expect(uaa.requests).toHaveLength(1)
  })

  it('refetches a token that is within 60 s of expiry, and cache:false always fetches', async () => {
    uaa.expiresIn = 30
    const req = {
      tokenUrl: `${uaa.url}/oauth/token`,
      grantType: 'client_credentials' as const,
      clientId: 'sb-dest',
      clientSecret: SECRET,
    }
    await fetchToken(req)
    await fetchToken(req)
    expect(uaa.requests).toHaveLength(2)
    uaa.expiresIn = 3600
    await fetchToken({ ...req, cache: false })
    await fetchToken({ ...req, cache: false })
    expect(uaa.requests).toHaveLength(4)
  })

  it('raises TOKEN_FETCH_FAILED with status and OAuth error, never the secret', async () => {
    const err = await fetchToken({
      tokenUrl: `${uaa.url}/oauth/token`,
      grantType: 'client_credentials',
      clientId: 'sb-dest',
      clientSecret: `${SECRET}-wrong`,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'TOKEN_FETCH_FAILED', details: { status: 401 } })
    expect((err as Error).message).toContain('invalid_client: Bad credentials')
    expect(JSON.stringify(err) + String(err)).not.toContain('SENTINEL')
    uaa.failWith = { status: 500, error: 'server_error', description: 'maintenance' }
    await expect(
      fetchToken({
        tokenUrl: `${uaa.url}/oauth/token`,
        grantType: 'client_credentials',
        clientId: 'sb-dest',
        clientSecret: SECRET,
      }),
    ).rejects.toThrow(/HTTP 500 \(server_error: maintenance\)/)
  })

  it('reports an unreachable endpoint and validates its input', async () => {
    await expect(
      fetchToken({
        tokenUrl: 'http://127.0.0.1:1/oauth/token',
        grantType: 'client_credentials',
        clientId: 'c',
        clientSecret: SECRET,
      }),
    ).rejects.toMatchObject({ code: 'TOKEN_FETCH_FAILED' })
    await expect(
      fetchToken({ tokenUrl: 'not a url', grantType: 'client_credentials', clientId: 'c' }),
    ).rejects.toThrow(TypeError)
    await expect(
      fetchToken({ tokenUrl: `${uaa.url}/oauth/token`, grantType: 'password', clientId: 'c' }),
    ).rejects.toThrow(/username/)
  })
})
