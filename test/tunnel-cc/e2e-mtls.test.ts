// biome-ignore-all lint/suspicious/noTemplateCurlyInString: subject patterns use ${claim} placeholders on purpose
/**
 * Principal propagation as mTLS end to end: the agent (own process, trusting the backend's CA via
 * NODE_EXTRA_CA_CERTS) presents a short-lived certificate issued for the user to an https backend
 * that only accepts client certificates from our principal-propagation CA.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDevToken } from '../../lib/tunnel/index'
import { createLocalCa } from '../../lib/tunnel/principal'
import { testPki } from '../fixtures/certs'
import { type Child, spawnProc } from './fixtures/spawn'
import { type Stack, startStack } from './fixtures/stack'
import { DEV_SECRET, hsToken } from './fixtures/tokens'
import { listenLoopback } from '../fixtures/net'
import { loopbackRequest } from '../fixtures/http-client'

let dir: string
let backend: Server
let stack: Stack
let agent: Child

function get(user: string | undefined): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> =
    user === undefined ? {} : { 'SAP-Connectivity-Authentication': `Bearer ${user}` }
  return loopbackRequest(stack.proxy.httpPort as number, 'http://erp.virtual:443/who', { headers })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-mtls-'))
  const pp = await createLocalCa('mTLS PP CA')
  writeFileSync(join(dir, 'ca.pem'), pp.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), pp.keyPem)
  const pki = testPki()
  writeFileSync(join(dir, 'backend-ca.pem'), pki.caPem)
  backend = createHttpsServer(
    {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
      ca: [pp.certPem],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate()
      res.end(JSON.stringify({ cn: peer.subject?.CN, validTo: peer.valid_to }))
    },
  )
  await listenLoopback(backend)
  stack = await startStack({ trustedAccount: 'acme' })
  agent = await spawnProc(
    {
      role: 'agent',
      urls: [stack.url],
      token: createDevToken({ secret: DEV_SECRET, subject: 'cc', account: 'acme' }),
      baseDir: dir,
      config: {
        locationId: '',
        trust: { secret: DEV_SECRET },
        mappings: [
          {
            protocol: 'HTTP',
            virtualHost: 'erp.virtual',
            virtualPort: 443,
            internalHost: '127.0.0.1',
            internalPort: (backend.address() as AddressInfo).port,
            internalProtocol: 'https',
            resources: [{ path: '/who', subPaths: false }],
            principalPropagation: {
              mode: 'certificate',
              as: 'mtls',
              subjectPattern: 'CN=${user_name}',
              caCert: 'ca.pem',
              caKey: 'ca-key.pem',
            },
          },
        ],
      },
    },
    40_000,
    { NODE_EXTRA_CA_CERTS: join(dir, 'backend-ca.pem') },
  )
  const until = Date.now() + 5000
  while (!stack.server.agents('acme').some((a) => a.mappings.length > 0)) {
    if (Date.now() > until) throw new Error('agent did not announce')
    await new Promise((r) => setTimeout(r, 10))
  }
}, 90_000)
afterAll(async () => {
  await agent?.kill('SIGKILL')
  await stack?.close()
  await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()))
  rmSync(dir, { recursive: true, force: true })
})

describe('principal propagation with "as": "mtls"', () => {
  it('the backend authenticates the user by the TLS client certificate the agent issued', async () => {
    const r = await get(await hsToken({ user_name: 'dora' }))
    expect(r.status).toBe(200)
    const seen = JSON.parse(r.body) as { cn: string; validTo: string }
    expect(seen.cn).toBe('dora')
    expect(Date.parse(seen.validTo) - Date.now()).toBeLessThanOrEqual(600_000 + 1000)
    const other = await get(await hsToken({ user_name: 'erik' }))
    expect((JSON.parse(other.body) as { cn: string }).cn).toBe('erik')
  })

  it('without a user token the agent refuses before contacting the backend', async () => {
    expect((await get(undefined)).status).toBe(401)
  })
})
