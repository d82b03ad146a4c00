// biome-ignore-all lint/suspicious/noTemplateCurlyInString: subject patterns use ${claim} placeholders on purpose
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls'
import forge from 'node-forge'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isConnectivityError } from '../../lib/errors'
import {
  CertificateIssuer,
  createLocalCa,
  parsePrincipalPropagation,
  parseTrust,
  PrincipalPropagator,
  stripForBackend,
} from '../../lib/tunnel/principal'
import { DEV_SECRET, hsToken, type RsIssuer, startRsIssuer } from './fixtures/tokens'
import { listenLoopback } from '../fixtures/net'

let dir: string
let ca: { certPem: string; keyPem: string }
let rs: RsIssuer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-pp-'))
  ca = await createLocalCa('Test PP CA')
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem)
  rs = await startRsIssuer()
})
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await rs.close()
})

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return isConnectivityError(err) ? err.code : `other: ${(err as Error).message}`
  }
}

describe('principal propagation: header mode', () => {
  const pp = new PrincipalPropagator({ trust: { secret: DEV_SECRET } })
  const header = parsePrincipalPropagation({ mode: 'header' })

  it('uses SAP-Connectivity-User by default and user_name → email → sub', async () => {
    expect(header).toEqual({ mode: 'header', header: 'SAP-Connectivity-User' })
    const a = await pp.propagate(header, await hsToken({ user_name: 'alice', email: 'a@x', sub: 's' }))
    expect(a.headers).toEqual({ 'SAP-Connectivity-User': 'alice' })
    const b = await pp.propagate(header, await hsToken({ email: 'bob@example.com', sub: 's' }))
    expect(b.headers).toEqual({ 'SAP-Connectivity-User': 'bob@example.com' })
    const c = await pp.propagate(header, await hsToken({ sub: 'carol-id' }))
    expect(c.user).toBe('carol-id')
    const custom = parsePrincipalPropagation({ mode: 'header', header: 'X-Remote-User' })
    expect((await pp.propagate(custom, await hsToken({ user_name: 'dave' }))).headers).toEqual({
      'X-Remote-User': 'dave',
    })
  })

  it('refuses a request without a valid user (missing, expired, foreign signature, no user claim, no trust)', async () => {
    expect(await codeOf(pp.propagate(header, undefined))).toBe('TOKEN_MISSING')
    expect(await codeOf(pp.propagate(header, await hsToken({ user_name: 'x' }, { ttl: -300 })))).toBe(
      'TOKEN_INVALID',
    )
    const forged = await hsToken({ user_name: 'x' }, { secret: 'someone-elses-secret-0123456789' })
    expect(await codeOf(pp.propagate(header, forged))).toBe('TOKEN_INVALID')
    expect(await codeOf(pp.propagate(header, 'garbage'))).toBe('TOKEN_INVALID')
    expect(await codeOf(pp.propagate(header, await hsToken({ zid: 'only' })))).toBe('ACCESS_DENIED')
    const noTrust = new PrincipalPropagator()
    expect(await codeOf(noTrust.propagate(header, await hsToken({ user_name: 'x' })))).toBe('ACCESS_DENIED')
  })

  it('never puts the secret or the token into error messages', async () => {
    const sentinel = 'SENTINEL-SECRET-4f1c2d3e4a5b6c7d'
    const tok = await hsToken({ user_name: 'x' }, { secret: sentinel })
    try {
      await pp.propagate(header, tok)
      expect.unreachable()
    } catch (err) {
      const text = JSON.stringify(err) + String((err as Error).message) + String((err as Error).stack)
      expect(text).not.toContain(sentinel)
      expect(text).not.toContain(tok)
    }
    try {
      parseTrust({ secret: 'short' })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).not.toContain('short"')
    }
  })

  it('verifies against a JWKS URL with issuer and audience', async () => {
    const trust = parseTrust({ jwksUri: rs.jwksUri, issuer: rs.issuer, audience: 'conn-app' })
    const jwks = new PrincipalPropagator({ trust })
    const ok = await jwks.propagate(header, await rs.sign({ user_name: 'erin', aud: 'conn-app' }))
    expect(ok.user).toBe('erin')
    expect(await codeOf(jwks.propagate(header, await rs.sign({ user_name: 'erin', aud: 'other' })))).toBe(
      'TOKEN_INVALID',
    )
    expect(
      await codeOf(
        jwks.propagate(header, await hsToken({ user_name: 'erin', aud: 'conn-app', iss: rs.issuer })),
      ),
    ).toBe('TOKEN_INVALID')
    expect(rs.jwksHits).toBeGreaterThan(0)
    expect(() => parseTrust({ jwksUri: rs.jwksUri })).toThrow(/issuer is required/)
  })

  it('strips identity headers a caller could spoof before the backend sees them', () => {
    const cfg = parsePrincipalPropagation({ mode: 'header', header: 'X-Remote-User' })
    const out = stripForBackend(
      {
        host: 's4',
        'x-remote-user': 'admin',
        ssl_client_cert: 'forged',
        'proxy-authorization': 'Bearer t',
        'sap-connectivity-authentication': 'Bearer u',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        accept: 'json',
      },
      cfg,
    )
    expect(out).toEqual({ host: 's4', accept: 'json' })
  })
})

describe('principal propagation: certificate mode', () => {
  const pp = new PrincipalPropagator({ trust: { secret: DEV_SECRET } })

  it('issues a short-lived client certificate the backend can parse (SSL_CLIENT_CERT, base64 DER one line)', async () => {
    const cfg = parsePrincipalPropagation(
      {
        mode: 'certificate',
        subjectPattern: 'CN=${user_name},OU=Sales,O=ACME',
        caCert: 'ca.pem',
        caKey: 'ca-key.pem',
      },
      'mappings[0].principalPropagation',
      dir,
    )
    const r = await pp.propagate(cfg, await hsToken({ user_name: 'alice', email: 'a@x' }))
    const value = r.headers.SSL_CLIENT_CERT ?? ''
    expect(value).toMatch(/^[A-Za-z0-9+/]+=*$/)
    // As SAP's sample backend does: forge.util.decode64 → asn1.fromDer → certificateFromAsn1.
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.decode64(value)))
    expect(cert.subject.getField('CN').value).toBe('alice')
    expect(cert.subject.getField('OU').value).toBe('Sales')
    expect(cert.issuer.getField('CN').value).toBe('Test PP CA')
    const x = new X509Certificate(Buffer.from(value, 'base64'))
    expect(x.subject).toBe('CN=alice\nOU=Sales\nO=ACME')
    const lifetime = Date.parse(x.validTo) - Date.now()
    expect(lifetime).toBeGreaterThan(9 * 60_000)
    expect(lifetime).toBeLessThanOrEqual(10 * 60_000 + 1000)
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true)
    expect(x.checkIssued(new X509Certificate(ca.certPem))).toBe(true)
    expect(x.keyUsage).toContain('1.3.6.1.5.5.7.3.2')
    // Cached per subject while more than half of its validity is left.
    const again = await pp.propagate(cfg, await hsToken({ user_name: 'alice' }))
    expect(again.headers.SSL_CLIENT_CERT).toBe(value)
  })

  it('keeps a hostile user name inside one RDN value', async () => {
    const issuer = new CertificateIssuer({ caCert: ca.certPem, caKey: ca.keyPem, validitySeconds: 120 })
    const cfg = parsePrincipalPropagation({
      mode: 'certificate',
      caCert: join(dir, 'ca.pem'),
      caKey: join(dir, 'ca-key.pem'),
    })
    const r = await pp.propagate(cfg, await hsToken({ user_name: 'mallory,O=Admins' }))
    const x = new X509Certificate(Buffer.from(r.headers.SSL_CLIENT_CERT ?? '', 'base64'))
    expect(x.subject.split('\n')).toHaveLength(1)
    expect(x.subject).toContain('mallory')
    const short = await issuer.issue([{ name: 'CN', value: 'x' }])
    expect(Date.parse(new X509Certificate(short.certPem).validTo) - Date.now()).toBeLessThanOrEqual(121_000)
  })

  it('refuses when the pattern needs a claim the token lacks, and without a user token', async () => {
    const cfg = parsePrincipalPropagation({
      mode: 'certificate',
      subjectPattern: 'CN=${email}',
      caCert: join(dir, 'ca.pem'),
      caKey: join(dir, 'ca-key.pem'),
    })
    expect(await codeOf(pp.propagate(cfg, await hsToken({ user_name: 'noemail' })))).toBe('ACCESS_DENIED')
    expect(await codeOf(pp.propagate(cfg, undefined))).toBe('TOKEN_MISSING')
  })

  it('rejects bad configuration with CONFIG_INVALID', () => {
    for (const bad of [
      { mode: 'kerberos' },
      { mode: 'header', header: 'bad header' },
      { mode: 'certificate', caKey: 'k' },
      { mode: 'certificate', caCert: 'c', caKey: 'k', as: 'pem' },
      { mode: 'certificate', caCert: 'c', caKey: 'k', subjectPattern: 'XX=${name}' },
    ]) {
      expect(() => parsePrincipalPropagation(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      )
    }
  })

  it('as "mtls": the backend sees the user certificate in the TLS handshake', async () => {
    // The backend's own identity does not matter here (self-signed); the client side does.
    const server = await createLocalCa('backend server')
    const cfg = parsePrincipalPropagation({
      mode: 'certificate',
      as: 'mtls',
      caCert: join(dir, 'ca.pem'),
      caKey: join(dir, 'ca-key.pem'),
    })
    const r = await pp.propagate(cfg, await hsToken({ user_name: 'frank' }))
    expect(r.headers).toEqual({})
    const tls = r.tls ?? { cert: '', key: '' }
    // The backend: TLS server with its own (self-signed) cert, requiring clients issued by our PP CA.
    const srv = createTlsServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: [ca.certPem],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (s: TLSSocket) => {
        s.end(String(s.getPeerCertificate().subject.CN))
      },
    )
    await listenLoopback(srv)
    try {
      const port = (srv.address() as import('node:net').AddressInfo).port
      const cn = await new Promise<string>((resolve, reject) => {
        const c = tlsConnect({
          host: '127.0.0.1',
          port,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: false,
        })
        let data = ''
        c.on('data', (d: Buffer) => {
          data += d.toString()
        })
        c.on('end', () => resolve(data))
        c.on('error', reject)
      })
      expect(cn).toBe('frank')
    } finally {
      await new Promise<void>((res) => srv.close(() => res()))
    }
  })
})
