import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { request } from '../../lib/http/request'
import { jwtClaims, userJwt } from '../fixtures/jwt'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'
import { httpDest, resetClient } from './helpers'

let xsuaa: FakeXsuaa
let target: FakeTarget
let restoreDns: () => Promise<void>

beforeAll(async () => {
  restoreDns = installLoopbackDns()
  xsuaa = await startXsuaa({
    clientId: 'dest-client',
    clientSecret: 'dest-secret-SENTINEL',
    provider: { zid: 'prov-zid', subdomain: 'provider' },
    subscribers: [{ zid: 'sub-zid', subdomain: 'subscriber' }],
  })
  target = await startTarget()
})
afterAll(async () => {
  await Promise.all([xsuaa.close(), target.close()])
  await restoreDns()
})
afterEach(async () => {
  target.records.length = 0
  xsuaa.requests.length = 0
  await resetClient()
})

async function authHeader(d: ReturnType<typeof httpDest>, jwt?: string): Promise<string | undefined> {
  const res = await request(d, { path: '/who', ...(jwt ? { jwt } : {}) })
  const echo = (await res.json()) as { headers: Record<string, string> }
  return echo.headers.authorization
}

function claims(bearer: string | undefined): Record<string, unknown> {
  const jwt = (bearer ?? '').replace(/^Bearer /, '')
  return jwtClaims(jwt)
}

const oauth = (type: string, extra: Record<string, string> = {}) =>
  httpDest({
    Name: `D-${type}`,
    URL: target.url,
    Authentication: type,
    tokenServiceURL: `${xsuaa.url}/oauth/token`,
    clientId: 'dest-client',
    clientSecret: 'dest-secret-SENTINEL',
    ...extra,
  })

describe('authentication types', () => {
  it('NoAuthentication sends no Authorization', async () => {
    expect(await authHeader(httpDest({ Name: 'N', URL: target.url }))).toBeUndefined()
  })

  it('BasicAuthentication', async () => {
    const d = httpDest({
      Name: 'B',
      URL: target.url,
      Authentication: 'BasicAuthentication',
      User: 'u',
      Password: 'p@ss',
    })
    expect(await authHeader(d)).toBe(`Basic ${Buffer.from('u:p@ss').toString('base64')}`)
  })

  it('OAuth2ClientCredentials: one token fetch, cached for later requests', async () => {
    const d = oauth('OAuth2ClientCredentials')
    const h1 = await authHeader(d)
    const h2 = await authHeader(d)
    expect(h1).toBe(h2)
    expect(claims(h1).grant_type).toBe('client_credentials')
    expect(xsuaa.requests).toHaveLength(1)
    expect(xsuaa.requests[0]?.credentialsIn).toBe('body')
  })

  it('OAuth2ClientCredentials with tokenServiceUser/Password sends HTTP Basic to the token endpoint', async () => {
    const d = oauth('OAuth2ClientCredentials', {
      tokenServiceUser: 'dest-client',
      tokenServicePassword: 'dest-secret-SENTINEL',
    })
    expect(claims(await authHeader(d)).grant_type).toBe('client_credentials')
    expect(xsuaa.requests[0]?.credentialsIn).toBe('basic')
  })

  it('OAuth2ClientCredentials with a Common token URL uses the subscriber tenant', async () => {
    const d = oauth('OAuth2ClientCredentials', { tokenServiceURLType: 'Common' })
    const h = await authHeader(d, userJwt('carol', 'sub-zid', 'subscriber'))
    expect(claims(h).zid).toBe('sub-zid')
  })

  it('OAuth2UserTokenExchange and OAuth2JWTBearer: jwt-bearer per user, cached per user', async () => {
    for (const type of ['OAuth2UserTokenExchange', 'OAuth2JWTBearer']) {
      await resetClient()
      xsuaa.requests.length = 0
      const d = oauth(type)
      const a = userJwt('alice', 'prov-zid', 'provider')
      const b = userJwt('bob', 'prov-zid', 'provider')
      expect(claims(await authHeader(d, a)).user_name).toBe('alice')
      expect(claims(await authHeader(d, b)).user_name).toBe('bob')
      expect(claims(await authHeader(d, a)).user_name).toBe('alice')
      expect(xsuaa.requests.map((r) => r.assertionUser)).toEqual(['alice', 'bob'])
    }
  })

  it('user flows need a JWT (TOKEN_MISSING) and reject expired ones before any call (TOKEN_INVALID)', async () => {
    const d = oauth('OAuth2JWTBearer')
    const missing = await request(d, { path: '/x' }).catch((e: unknown) => e)
    expect(hasErrorCode(missing, 'TOKEN_MISSING')).toBe(true)
    const expired = userJwt('alice', 'prov-zid', 'provider', { exp: 1000 })
    const e = await request(d, { path: '/x', jwt: expired }).catch((err: unknown) => err)
    expect(hasErrorCode(e, 'TOKEN_INVALID')).toBe(true)
    expect(xsuaa.requests).toHaveLength(0)
    expect(target.records).toHaveLength(0)
  })

  it('caches CSRF tokens per user for user-dependent authentication', async () => {
    const d = oauth('OAuth2JWTBearer')
    const a = userJwt('alice', 'prov-zid', 'provider')
    const b = userJwt('bob', 'prov-zid', 'provider')
    target.csrfFetches = 0
    for (const jwt of [a, b, a, b]) {
      const res = await request(d, { method: 'POST', path: '/csrf/x', body: 'x', jwt })
      expect(res.status).toBe(200)
      await res.text()
    }
    expect(target.csrfFetches).toBe(2)
    const posts = target.records.filter((r) => r.method === 'POST')
    expect(posts[0]?.headers['x-csrf-token']).toBe(posts[2]?.headers['x-csrf-token'])
    expect(posts[0]?.headers['x-csrf-token']).not.toBe(posts[1]?.headers['x-csrf-token'])
  })

  it('OAuth2Password', async () => {
    const d = oauth('OAuth2Password', { User: 'tech-user', Password: 'pw-SENTINEL' })
    expect(claims(await authHeader(d)).user_name).toBe('tech-user')
    expect(xsuaa.requests[0]?.grantType).toBe('password')
  })

  it('uses Destination-service authTokens instead of running the flow', async () => {
    const base = oauth('OAuth2UserTokenExchange')
    const d = {
      ...base,
      authTokens: [
        {
          type: 'Bearer',
          value: 'svc-token',
          httpHeader: { key: 'Authorization', value: 'Bearer svc-token' },
          expiresAt: Date.now() + 60_000,
        },
      ],
    }
    expect(await authHeader(d, userJwt('alice', 'prov-zid', 'provider'))).toBe('Bearer svc-token')
    expect(xsuaa.requests).toHaveLength(0)
    const failed = {
      ...base,
      authTokens: [
        {
          type: '',
          value: '',
          httpHeader: { key: 'Authorization', value: '' },
          error: 'Retrieval of OAuth token failed',
        },
      ],
    }
    const e = await request(failed, { path: '/x', jwt: userJwt('alice', 'prov-zid', 'provider') }).catch(
      (err: unknown) => err,
    )
    expect(hasErrorCode(e, 'TOKEN_FETCH_FAILED')).toBe(true)
  })

  it('a failing token endpoint gives TOKEN_FETCH_FAILED without leaking the client secret', async () => {
    const d = oauth('OAuth2ClientCredentials', { clientSecret: 'wrong-SENTINEL' })
    const e = (await request(d, { path: '/x' }).catch((err: unknown) => err)) as Error & { details: unknown }
    expect(hasErrorCode(e, 'TOKEN_FETCH_FAILED')).toBe(true)
    expect(`${e.message} ${JSON.stringify(e.details)}`).not.toContain('SENTINEL')
    expect(target.records).toHaveLength(0)
  })

  it('PrincipalPropagation over the Internet is a destination error', async () => {
    const d = httpDest({ Name: 'PPI', URL: target.url, Authentication: 'PrincipalPropagation' })
    const e = await request(d, { path: '/x', jwt: userJwt('alice', 'prov-zid', 'provider') }).catch(
      (err: unknown) => err,
    )
    expect(hasErrorCode(e, 'DESTINATION_INVALID')).toBe(true)
  })
})
