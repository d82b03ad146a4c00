import { describe, expect, it } from 'vitest'
import { assertUsableJwt, decodeJwt } from '../../lib/auth/jwt'
import { hasErrorCode } from '../../lib/errors'
import { makeJwt, userJwt } from '../fixtures/jwt'

describe('decodeJwt', () => {
  it('reads an XSUAA user token: tenant from zid, subdomain from ext_attr.zdn, user from user_name', () => {
    const id = decodeJwt(userJwt('alice', 'zone-1', 'sub-one'))
    expect(id).toMatchObject({
      tenant: 'zone-1',
      subdomain: 'sub-one',
      user: 'alice',
      userId: 'id-alice',
      isXsuaa: true,
      isIas: false,
    })
    expect(id.email).toBe('alice@example.com')
    expect(id.expiresAt).toBeGreaterThan(Date.now())
    expect(Object.isFrozen(id)).toBe(true)
  })

  it('takes the subdomain from the iss host when ext_attr.zdn is missing', () => {
    const id = decodeJwt(
      makeJwt({ iss: 'https://acme.authentication.eu10.hana.ondemand.com/oauth/token', zid: 'z', sub: 'x' }),
    )
    expect(id.subdomain).toBe('acme')
    expect(id.user).toBe('x')
  })

  it('recognises IAS tokens (app_tid, accounts host) and derives no subdomain for them', () => {
    const id = decodeJwt(
      makeJwt({
        iss: 'https://tenant1.accounts.ondemand.com',
        app_tid: 'app-tenant',
        sub: 'u-1',
        user_uuid: 'uuid-1',
        email: 'b@x.org',
        azp: 'client-x',
      }),
    )
    expect(id).toMatchObject({
      tenant: 'app-tenant',
      isIas: true,
      isXsuaa: false,
      user: 'b@x.org',
      userId: 'uuid-1',
      clientId: 'client-x',
    })
    expect(id.subdomain).toBeUndefined()
    expect(decodeJwt(makeJwt({ zone_uuid: 'zu', iss: 'https://t.accounts400.ondemand.com' })).tenant).toBe(
      'zu',
    )
  })

  it('client id: azp, then a single aud, then cid', () => {
    expect(decodeJwt(makeJwt({ aud: ['only'] })).clientId).toBe('only')
    expect(decodeJwt(makeJwt({ aud: ['a', 'b'], cid: 'c' })).clientId).toBe('c')
    expect(decodeJwt(makeJwt({ client_id: 'd' })).clientId).toBe('d')
  })

  it('accepts a "Bearer " prefix', () => {
    expect(decodeJwt(`Bearer ${userJwt('bob', 'z', 's')}`).user).toBe('bob')
  })

  it.each([
    ['empty', ''],
    ['two parts', 'a.b'],
    [
      'payload not JSON',
      `${Buffer.from('{}').toString('base64url')}.${Buffer.from('nope').toString('base64url')}.x`,
    ],
    [
      'payload is an array',
      `${Buffer.from('{}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.x`,
    ],
    ['bad characters', 'a.b$.c'],
  ])('rejects a malformed token (%s) with TOKEN_INVALID', (_n, token) => {
    expect(() => decodeJwt(token)).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }))
  })

  it('does not put the token into the error message', () => {
    const secret = `${Buffer.from('{}').toString('base64url')}.SENTINEL-SECRET-TOKEN.sig`
    try {
      decodeJwt(secret)
      expect.unreachable()
    } catch (err) {
      expect(hasErrorCode(err, 'TOKEN_INVALID')).toBe(true)
      expect((err as Error).message).not.toContain('SENTINEL')
    }
  })
})

describe('assertUsableJwt', () => {
  it('passes a valid token and rejects an expired one', () => {
    expect(assertUsableJwt(userJwt('a', 'z', 's')).user).toBe('a')
    const expired = userJwt('a', 'z', 's', { exp: Math.floor(Date.now() / 1000) - 120 })
    expect(() => assertUsableJwt(expired)).toThrow(/expired 12\d s ago/)
  })
})
