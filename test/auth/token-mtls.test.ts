import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearTokenCache, fetchToken } from '../../lib/auth/token-client'
import { testPki } from '../fixtures/certs'
import { listenLoopback } from '../fixtures/net'

let server: Server
let url: string
const seen: string[] = []

beforeAll(async () => {
  const pki = testPki()
  // XSUAA's cert endpoint (`certurl`): the client authenticates with its certificate, no secret.
  server = createServer(
    {
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: pki.caPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket
      const peer = socket.getPeerCertificate()
      const body: Buffer[] = []
      req.on('data', (c: Buffer) => body.push(c))
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(body).toString())
        res.setHeader('content-type', 'application/json')
        if (!socket.authorized || form.get('client_id') !== 'sb-mtls' || form.has('client_secret')) {
          res.statusCode = 401
          res.end(JSON.stringify({ error: 'unauthorized', error_description: 'client certificate required' }))
          return
        }
        seen.push(String(peer.subject?.CN))
        res.end(JSON.stringify({ access_token: 'mtls-token', token_type: 'bearer', expires_in: 600 }))
      })
    },
  )
  await listenLoopback(server)
  url = `https://localhost:${(server.address() as AddressInfo).port}/oauth/token`
})
afterAll(async () => {
  clearTokenCache()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('fetchToken with a client certificate (mTLS binding)', () => {
  it('authenticates with cert/key (PEM) and with PKCS#12, trusting a private CA', async () => {
    const pki = testPki()
    const pem = await fetchToken({
      tokenUrl: url,
      grantType: 'client_credentials',
      clientId: 'sb-mtls',
      tls: { cert: pki.clientCertPem, key: pki.clientKeyPem, ca: pki.caPem },
    })
    expect(pem.accessToken).toBe('mtls-token')
    const p12 = await fetchToken({
      tokenUrl: url,
      grantType: 'client_credentials',
      clientId: 'sb-mtls',
      cache: false,
      tls: { pfx: pki.clientP12, passphrase: pki.p12Password, ca: pki.caPem },
    })
    expect(p12.accessToken).toBe('mtls-token')
    expect(seen).toEqual(['test-client', 'test-client'])
  })

  it('fails without the certificate, and does not trust the private CA by default', async () => {
    const pki = testPki()
    await expect(
      fetchToken({
        tokenUrl: url,
        grantType: 'client_credentials',
        clientId: 'sb-mtls',
        tls: { ca: pki.caPem },
        cache: false,
      }),
    ).rejects.toMatchObject({
      code: 'TOKEN_FETCH_FAILED',
      message: expect.stringContaining('HTTP 401 (unauthorized: client certificate required)'),
    })
    await expect(
      fetchToken({
        tokenUrl: url,
        grantType: 'client_credentials',
        clientId: 'sb-mtls',
        tls: { cert: pki.clientCertPem, key: pki.clientKeyPem },
        cache: false,
      }),
    ).rejects.toMatchObject({ code: 'TOKEN_FETCH_FAILED' })
  })
})
