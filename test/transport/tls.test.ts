import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { request } from '../../lib/http/request'
import { DirectConnector } from '../../lib/transport/direct'
import { testPki } from '../fixtures/certs'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { httpDest, resetClient } from '../http/helpers'
import { rejection } from '../fixtures/rejection'

let server: FakeTarget
let mtls: FakeTarget
let dir: string

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

beforeAll(async () => {
  const pki = testPki()
  server = await startTarget({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } })
  mtls = await startTarget({
    tls: { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem, requestCert: true },
  })
  dir = mkdtempSync(join(tmpdir(), 'capconn-tls-'))
})
afterAll(async () => {
  await Promise.all([server.close(), mtls.close()])
  rmSync(dir, { recursive: true, force: true })
})
afterEach(resetClient)

describe('TLS settings of destinations', () => {
  it('rejects an unknown CA by default (CONNECT_FAILED, nothing sent)', async () => {
    const d = httpDest({ Name: 'TLS', URL: `https://localhost:${server.port}` })
    const e = await rejection(request(d, { path: '/x' }))
    expect(hasErrorCode(e, 'CONNECT_FAILED')).toBe(true)
    expect(e.details?.requestSent).toBe(false)
    expect(server.records).toHaveLength(0)
  })

  it('TrustAll accepts it', async () => {
    const d = httpDest({ Name: 'TLS', URL: `https://localhost:${server.port}`, TrustAll: 'true' })
    expect((await request(d, { path: '/x' })).status).toBe(200)
  })

  it('a PEM trust store from the destination certificates accepts it', async () => {
    const base = httpDest({
      Name: 'TLS',
      URL: `https://localhost:${server.port}`,
      TrustStoreLocation: 'ca.pem',
    })
    const d = { ...base, certificates: [{ name: 'ca.pem', content: b64(testPki().caPem), type: 'PEM' }] }
    expect((await request(d, { path: '/x' })).status).toBe(200)
  })

  it('a trust store file path works for local destination files; a missing one is DESTINATION_INVALID', async () => {
    const file = join(dir, 'ca.pem')
    writeFileSync(file, testPki().caPem)
    const d = httpDest({ Name: 'TLS', URL: `https://localhost:${server.port}`, TrustStoreLocation: file })
    expect((await request(d, { path: '/x' })).status).toBe(200)
    const missing = httpDest({
      Name: 'TLS2',
      URL: `https://localhost:${server.port}`,
      TrustStoreLocation: join(dir, 'nope.pem'),
    })
    expect(hasErrorCode(await rejection(request(missing, { path: '/x' })), 'DESTINATION_INVALID')).toBe(true)
  })

  it('ClientCertificateAuthentication with a PEM key store (mTLS)', async () => {
    const pki = testPki()
    const base = httpDest({
      Name: 'MTLS',
      URL: `https://localhost:${mtls.port}`,
      Authentication: 'ClientCertificateAuthentication',
      KeyStoreLocation: 'client.pem',
      TrustStoreLocation: 'ca.pem',
    })
    const d = {
      ...base,
      certificates: [
        { name: 'client.pem', content: b64(pki.clientCertPem + pki.clientKeyPem), type: 'PEM' },
        { name: 'ca.pem', content: b64(pki.caPem), type: 'PEM' },
      ],
    }
    const res = await request(d, { path: '/me' })
    expect(((await res.json()) as { clientCertCn: string }).clientCertCn).toBe('test-client')
  })

  it('ClientCertificateAuthentication with a PKCS#12 key store and password', async () => {
    const pki = testPki()
    const base = httpDest({
      Name: 'MTLS12',
      URL: `https://localhost:${mtls.port}`,
      Authentication: 'ClientCertificateAuthentication',
      KeyStoreLocation: 'client.p12',
      KeyStorePassword: pki.p12Password,
      TrustAll: 'true',
    })
    const d = { ...base, certificates: [{ name: 'client.p12', content: b64(pki.clientP12), type: 'P12' }] }
    const res = await request(d, { path: '/me' })
    expect(((await res.json()) as { clientCertCn: string }).clientCertCn).toBe('test-client')

    const wrong = { ...d, name: 'MTLSBAD', tls: { ...d.tls, keyStorePassword: 'wrong-SENTINEL' } }
    const e = await rejection(request(wrong, { path: '/me' }))
    expect(hasErrorCode(e, 'CONNECT_FAILED')).toBe(true)
    expect(e.message).not.toContain('SENTINEL')
  })

  it('the mTLS server refuses a client without certificate', async () => {
    const d = httpDest({ Name: 'NOCERT', URL: `https://localhost:${mtls.port}`, TrustAll: 'true' })
    const e = await rejection(request(d, { path: '/me' }))
    // TLS 1.3 reports the refused certificate after the handshake, so the request may be in flight.
    expect(['CONNECT_FAILED', 'CONNECTION_RESET']).toContain(e.code)
    expect(typeof e.details?.requestSent).toBe('boolean')
    expect(mtls.records.filter((r) => r.url === '/me' && !r.clientCertCn)).toHaveLength(0)
  })
})

describe('DirectConnector', () => {
  it('connects with TLS settings and SNI', async () => {
    const c = new DirectConnector({ tls: { ca: testPki().caPem, servername: 'localhost' } })
    const s = await c.connect({ host: '127.0.0.1', port: server.port }, {})
    expect((s as import('node:tls').TLSSocket).authorized).toBe(true)
    s.destroy()
  })

  it('rejects bad options', () => {
    expect(() => new DirectConnector({ connectTimeoutMs: 0 })).toThrow(RangeError)
  })
})
