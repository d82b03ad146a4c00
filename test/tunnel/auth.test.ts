import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createDevToken, createTokenVerifier } from '../../lib/tunnel/auth'
import { TunnelClient } from '../../lib/tunnel/client'
import { ForwardClient } from '../../lib/tunnel/forward'
import { TunnelServer } from '../../lib/tunnel/server'
import { SECRET } from './helpers'
import { listenLoopback } from '../fixtures/net'
import { rs256Key } from '../fixtures/signing-key'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function server(
  auth: ConstructorParameters<typeof TunnelServer>[0]['auth'],
): Promise<{ s: TunnelServer; url: string }> {
  const s = new TunnelServer({ auth })
  const { port } = await s.listen()
  cleanups.push(() => s.close(100))
  return { s, url: `ws://127.0.0.1:${port}` }
}

/** Tries to open a session and reports the refusal; asserts no session ever registered. */
async function refusal(
  s: TunnelServer,
  url: string,
  token: string,
): Promise<{ code: string; status: unknown; message: string }> {
  let sessions = 0
  s.on('session', () => sessions++)
  const client = new TunnelClient({ server: url, token })
  const err = await client.connect().then(
    () => undefined,
    (e) => e,
  )
  await client.close()
  expect(err).toBeDefined()
  expect(sessions).toBe(0)
  return { code: err.code, status: err.details.status, message: err.message }
}

describe('tunnel auth: refused before any stream', () => {
  it('expired token → 401', async () => {
    const { s, url } = await server({ secret: SECRET })
    const t = createDevToken({ secret: SECRET, subject: 'dev', ttlSeconds: -60 })
    const r = await refusal(s, url, t)
    expect(r).toMatchObject({ code: 'TUNNEL_AUTH_FAILED', status: 401 })
    expect(r.message).not.toContain(t)
  })

  it('wrong signature → 401', async () => {
    const { s, url } = await server({ secret: SECRET })
    const r = await refusal(s, url, createDevToken({ secret: 'another-secret-entirely', subject: 'dev' }))
    expect(r).toMatchObject({ code: 'TUNNEL_AUTH_FAILED', status: 401 })
  })

  it('wrong audience → 401; right audience accepted', async () => {
    const { s, url } = await server({ secret: SECRET, audience: 'cap-tunnel' })
    const r = await refusal(
      s,
      url,
      createDevToken({ secret: SECRET, subject: 'dev', audience: 'someone-else' }),
    )
    expect(r).toMatchObject({ code: 'TUNNEL_AUTH_FAILED', status: 401 })
    const ok = new TunnelClient({
      server: url,
      token: createDevToken({ secret: SECRET, subject: 'dev', audience: 'cap-tunnel' }),
    })
    await ok.connect()
    await ok.close()
  })

  it('missing token and garbage token → 401; missing scope → 403', async () => {
    const { s, url } = await server({ secret: SECRET, scope: 'tunnel' })
    expect((await refusal(s, url, 'not.a.jwt')).status).toBe(401)
    const noScope = createDevToken({ secret: SECRET, subject: 'dev' })
    expect((await refusal(s, url, noScope)).status).toBe(403)
    const withScope = createDevToken({ secret: SECRET, subject: 'dev', claims: { scope: ['app!t1.tunnel'] } })
    const c = new TunnelClient({ server: url, token: withScope })
    await c.connect()
    await c.close()
    expect(s.metrics()).toMatch(/tunnel_auth_failures_total\{reason="forbidden"\} 1/)
  })

  it('forward client with a refused token fails start() instead of retrying, and listens on nothing', async () => {
    const { url } = await server({ secret: SECRET })
    const fwd = new ForwardClient({
      server: url,
      token: createDevToken({ secret: 'wrong-secret-xyz', subject: 'x' }),
      mappings: ['0:h:1'],
    })
    const err = await fwd.start().catch((e) => e)
    expect(err.code).toBe('TUNNEL_AUTH_FAILED')
    await fwd.close()
  })

  it('JWKS: RS256 tokens verified against the key set, issuer checked, account from zid', async () => {
    const { privateKey, jwk } = await rs256Key()
    const jwks = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })))
    await listenLoopback(jwks)
    cleanups.push(() => new Promise((r) => jwks.close(() => r())))
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/token_keys`
    const verify = createTokenVerifier({ jwksUrl, issuer: 'https://uaa.example' })
    const sign = (iss: string) =>
      new SignJWT({ zid: 'zone-1', sub: 'agent' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(iss)
        .setExpirationTime('5m')
        .sign(privateKey)
    const id = await verify(await sign('https://uaa.example'))
    expect(id.account).toBe('zone-1')
    await expect(verify(await sign('https://evil.example'))).rejects.toMatchObject({
      code: 'TUNNEL_AUTH_FAILED',
    })
    // HS256 with the public key as secret must not pass the RS256-only JWKS check.
    await expect(
      verify(createDevToken({ secret: 'x', subject: 'a', issuer: 'https://uaa.example' })),
    ).rejects.toMatchObject({
      code: 'TUNNEL_AUTH_FAILED',
    })
  })

  it('insecure-no-auth is explicit and groups everyone as "anonymous"', async () => {
    const verify = createTokenVerifier({ insecureNoAuth: true })
    expect((await verify(undefined)).account).toBe('anonymous')
    expect(() => createTokenVerifier({} as never)).toThrow(TypeError)
  })

  it('account comes from account, else zid, else sub', async () => {
    const verify = createTokenVerifier({ secret: SECRET })
    expect(
      (await verify(createDevToken({ secret: SECRET, subject: 's', account: 'a', claims: { zid: 'z' } })))
        .account,
    ).toBe('a')
    expect(
      (await verify(createDevToken({ secret: SECRET, subject: 's', claims: { zid: 'z' } }))).account,
    ).toBe('z')
    expect((await verify(createDevToken({ secret: SECRET, subject: 's' }))).account).toBe('s')
  })

  it('createDevToken validates its input', () => {
    expect(() => createDevToken({ secret: '', subject: 'x' })).toThrow(TypeError)
    expect(() => createDevToken({ secret: 's', subject: '' })).toThrow(TypeError)
    expect(() => createDevToken({ secret: 's', subject: 'x', ttlSeconds: Number.NaN })).toThrow(RangeError)
  })
})

describe('tunnel upgrade requirements', () => {
  it('refuses an upgrade without the tunnel subprotocol, and unknown paths', async () => {
    const { url } = await server({ secret: SECRET })
    const WebSocket = (await import('ws')).default
    const status = (u: string, protocols?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(u, protocols, {
          headers: { authorization: `Bearer ${createDevToken({ secret: SECRET, subject: 'x' })}` },
        })
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0)
          ws.terminate()
        })
        ws.on('open', () => {
          resolve(101)
          ws.close()
        })
        ws.on('error', () => undefined)
      })
    expect(await status(url)).toBe(400)
    expect(await status(`${url}/other`, 'cap-connectivity-tunnel.v1')).toBe(404)
    expect(await status(url, 'cap-connectivity-tunnel.v1')).toBe(101)
  })
})
