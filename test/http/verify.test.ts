import { createServer, type Server } from 'node:http'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { verifyJwt } from '../../lib/auth/verify'
import { listenLoopback } from '../fixtures/net'
import { rs256Key } from '../fixtures/signing-key'

let server: Server
let port: number
let sign: (claims: Record<string, unknown>, header?: Record<string, unknown>) => Promise<string>
let foreignSign: typeof sign
const keyRequests: string[] = []

beforeAll(async () => {
  const { privateKey, jwk } = await rs256Key()
  const foreign = await rs256Key()
  server = createServer((req, res) => {
    keyRequests.push(
      `${req.url} zid=${req.headers['x-zid'] ?? ''} client=${req.headers['x-client_id'] ?? ''}`,
    )
    if (req.url?.startsWith('/token_keys') || req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [jwk] }))
    } else if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ issuer: `http://localhost:${port}`, jwks_uri: `http://localhost:${port}/jwks` }),
      )
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  port = await listenLoopback(server)
  const make =
    (key: Parameters<SignJWT['sign']>[0]) =>
    (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header })
        .sign(key)
  sign = make(privateKey)
  foreignSign = make(foreign.privateKey)
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
})

const xsuaa = () => ({ uaadomain: `localhost:${port}`, url: `http://localhost:${port}` })
const claims = () => ({
  iss: `http://sub.localhost:${port}/oauth/token`,
  zid: 'zone-1',
  ext_attr: { zdn: 'sub', enhancer: 'XSUAA' },
  user_name: 'alice',
  aud: ['sb-app'],
})

describe('verifyJwt', () => {
  it('verifies an XSUAA token with keys from token_keys?zid and returns its identity', async () => {
    const id = await verifyJwt(await sign(claims()), { ...xsuaa(), audience: 'sb-app' })
    expect(id.user).toBe('alice')
    expect(id.tenant).toBe('zone-1')
    expect(keyRequests.some((r) => r.startsWith('/token_keys?zid=zone-1 zid=zone-1'))).toBe(true)
  })

  it('rejects a token signed by another key, a wrong audience, an expired token', async () => {
    const bad = await verifyJwt(await foreignSign(claims()), xsuaa()).catch((e: unknown) => e)
    expect(hasErrorCode(bad, 'TOKEN_INVALID')).toBe(true)
    const aud = await verifyJwt(await sign(claims()), { ...xsuaa(), audience: 'other' }).catch(
      (e: unknown) => e,
    )
    expect(hasErrorCode(aud, 'TOKEN_INVALID')).toBe(true)
    const expired = await verifyJwt(
      await sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 600 }),
      xsuaa(),
    ).catch((e: unknown) => e)
    expect(hasErrorCode(expired, 'TOKEN_INVALID')).toBe(true)
  })

  it('never follows a foreign jku, and rejects a foreign issuer', async () => {
    const before = keyRequests.length
    const jku = await verifyJwt(
      await sign(claims(), { jku: 'https://evil.example/token_keys' }),
      xsuaa(),
    ).catch((e: unknown) => e)
    expect(hasErrorCode(jku, 'TOKEN_INVALID')).toBe(true)
    expect((jku as Error).message).toContain('jku')
    const iss = await verifyJwt(
      await sign({ ...claims(), iss: 'https://evil.example/oauth/token' }),
      xsuaa(),
    ).catch((e: unknown) => e)
    expect(hasErrorCode(iss, 'TOKEN_INVALID')).toBe(true)
    expect(keyRequests.length).toBe(before)
  })

  it('verifies an IAS token through the OpenID configuration jwks_uri', async () => {
    const token = await sign({
      iss: `http://localhost:${port}`,
      app_tid: 't-1',
      sub: 'u-1',
      user_uuid: 'u-1',
      aud: 'ias-client',
    })
    const id = await verifyJwt(token, {
      url: `http://localhost:${port}`,
      clientId: 'ias-client',
      audience: 'ias-client',
    })
    expect(id.tenant).toBe('t-1')
    expect(keyRequests.some((r) => r.startsWith('/jwks') && r.includes('client=ias-client'))).toBe(true)
  })

  it('rejects malformed tokens and misuse', async () => {
    expect(hasErrorCode(await verifyJwt('abc', xsuaa()).catch((e: unknown) => e), 'TOKEN_INVALID')).toBe(true)
    await expect(verifyJwt('a.b.c', {})).rejects.toThrow(TypeError)
  })
})
