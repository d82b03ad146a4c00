import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalCa, createPrincipalHook, type PrincipalHookContext } from '../../lib/tunnel/principal'
import { DEV_SECRET, hsToken } from './fixtures/tokens'

let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-hook-'))
  const ca = await createLocalCa()
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function ctx(
  mappingRaw: Record<string, unknown>,
  principal: string | undefined,
  headers: Record<string, string> = {},
): PrincipalHookContext {
  return {
    mapping: { raw: mappingRaw },
    config: { raw: { trust: { secret: DEV_SECRET } }, path: join(dir, 'agent.json') },
    principal,
    headers: { ...headers },
    tls: undefined,
  }
}

describe('agent HTTP hook for principal propagation', () => {
  const hook = createPrincipalHook()

  it('header mode replaces a spoofed user header; SSL_CLIENT_CERT from callers is always dropped', async () => {
    const c = ctx({ principalPropagation: { mode: 'header' } }, await hsToken({ user_name: 'alice' }), {
      'sap-connectivity-user': 'admin',
      SSL_CLIENT_CERT: 'forged',
    })
    await hook(c)
    expect(c.headers).toEqual({ 'SAP-Connectivity-User': 'alice' })
    const plain = ctx({}, undefined, { ssl_client_cert: 'forged', accept: 'x' })
    await hook(plain)
    expect(plain.headers).toEqual({ accept: 'x' })
  })

  it('certificate mode resolves CA paths next to agent.json; mtls needs an https backend', async () => {
    const c = ctx(
      { principalPropagation: { mode: 'certificate', caCert: 'ca.pem', caKey: 'ca-key.pem' } },
      await hsToken({ user_name: 'bob' }),
    )
    await hook(c)
    expect(c.headers.SSL_CLIENT_CERT).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const m = ctx(
      {
        internalProtocol: 'https',
        principalPropagation: { mode: 'certificate', as: 'mtls', caCert: 'ca.pem', caKey: 'ca-key.pem' },
      },
      await hsToken({ user_name: 'bob' }),
    )
    await hook(m)
    expect(m.tls?.cert).toContain('BEGIN CERTIFICATE')
    const bad = ctx(
      {
        internalProtocol: 'http',
        principalPropagation: { mode: 'certificate', as: 'mtls', caCert: 'ca.pem', caKey: 'ca-key.pem' },
      },
      await hsToken({ user_name: 'bob' }),
    )
    await expect(hook(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('refuses without a valid user', async () => {
    await expect(hook(ctx({ principalPropagation: { mode: 'header' } }, undefined))).rejects.toMatchObject({
      code: 'TOKEN_MISSING',
    })
    const expired = await hsToken({ user_name: 'x' }, { ttl: -300 })
    await expect(hook(ctx({ principalPropagation: { mode: 'header' } }, expired))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
  })
})
