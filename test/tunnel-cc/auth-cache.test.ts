import { describe, expect, it } from 'vitest'
import { AuthError } from '../../lib/errors'
import { cachedAuthenticator, type ProxyAuthenticator } from '../../lib/tunnel/proxy'
import { hsToken } from './fixtures/tokens'

function counting(): ProxyAuthenticator & { calls: number } {
  const fn = (async (token: string | undefined) => {
    fn.calls++
    if (token === 'bad') throw new AuthError('TOKEN_INVALID', 'bad')
    return { account: 'acme' }
  }) as ProxyAuthenticator & { calls: number }
  fn.calls = 0
  return fn
}

describe('cachedAuthenticator', () => {
  it('verifies a token once while it is valid; failures and empty tokens are never cached', async () => {
    const inner = counting()
    const auth = cachedAuthenticator(inner)
    const t = await hsToken({ sub: 'x' }, { ttl: 600 })
    for (let i = 0; i < 5; i++) expect(await auth(t)).toEqual({ account: 'acme' })
    expect(inner.calls).toBe(1)
    await expect(auth('bad')).rejects.toThrow()
    await expect(auth('bad')).rejects.toThrow()
    await auth(undefined)
    await auth(undefined)
    expect(inner.calls).toBe(5)
  })

  it('re-verifies after the ttl or the token expiry, and stays bounded', async () => {
    const inner = counting()
    const auth = cachedAuthenticator(inner, { ttlMs: 30, max: 2 })
    const t = await hsToken({ sub: 'x' }, { ttl: 600 })
    await auth(t)
    await new Promise((r) => setTimeout(r, 40))
    await auth(t)
    expect(inner.calls).toBe(2)
    const almostExpired = await hsToken({ sub: 'y' }, { ttl: -1 })
    await auth(almostExpired)
    await auth(almostExpired)
    expect(inner.calls).toBe(4)
    const many = await Promise.all([1, 2, 3].map((i) => hsToken({ sub: `z${i}` }, { ttl: 600 })))
    for (const m of many) await auth(m)
    await auth(many[0] ?? '')
    expect(inner.calls).toBe(8) // z1 was evicted (max 2)
  })
})
