/**
 * Short-lived X.509 client certificates for propagated users, issued by a local CA (the Cloud
 * Connector's "principal propagation CA" role). Keys are generated natively (node:crypto);
 * node-forge builds and signs the certificate.
 */
import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto'
import { promisify } from 'node:util'
import forge from 'node-forge'
import { ConnectivityError } from '../../errors'
import type { SubjectAttribute } from './user'

const generateKeyPairAsync = promisify(generateKeyPair)

/** A certificate with its private key, both PEM, and the DER as one-line base64 (`SSL_CLIENT_CERT`). */
export interface IssuedCertificate {
  readonly certPem: string
  readonly keyPem: string
  readonly derBase64: string
  /** Epoch ms after which the certificate is no longer valid. */
  readonly notAfter: number
}

export interface CertificateIssuerOptions {
  /** CA certificate (PEM). */
  readonly caCert: string
  /** CA private key (PEM, RSA). Never logged. */
  readonly caKey: string
  /** Validity of issued certificates in seconds; default 600 (10 min), at most 1 day. */
  readonly validitySeconds?: number
  /** Maximum cached certificates (one per subject); default 1000. */
  readonly cacheSize?: number
}

const BACKDATE_MS = 60_000

/**
 * Issues (and caches until half their validity has passed) client certificates per subject.
 * @example const issuer = new CertificateIssuer({ caCert, caKey }); const c = await issuer.issue([{ name: 'CN', value: 'alice' }])
 */
export class CertificateIssuer {
  readonly #caCert: forge.pki.Certificate
  readonly #caKey: forge.pki.rsa.PrivateKey
  readonly #validityMs: number
  readonly #cacheSize: number
  readonly #cache = new Map<string, Promise<IssuedCertificate>>()

  /** @throws ConnectivityError `CONFIG_INVALID` when the CA cert or key cannot be read. */
  constructor(options: CertificateIssuerOptions) {
    const validity = options.validitySeconds ?? 600
    if (!Number.isInteger(validity) || validity < 60 || validity > 86_400) {
      throw new RangeError('validitySeconds must be an integer between 60 and 86400')
    }
    this.#validityMs = validity * 1000
    this.#cacheSize = options.cacheSize ?? 1000
    try {
      this.#caCert = forge.pki.certificateFromPem(options.caCert)
    } catch (err) {
      throw new ConnectivityError(
        'CONFIG_INVALID',
        'The principal-propagation CA certificate is not a PEM X.509 certificate',
        {
          cause: err,
        },
      )
    }
    try {
      this.#caKey = forge.pki.privateKeyFromPem(options.caKey)
    } catch {
      // No cause: a parser error could echo key material.
      throw new ConnectivityError(
        'CONFIG_INVALID',
        'The principal-propagation CA key is not a PEM RSA private key',
      )
    }
  }

  /** Issues a certificate for the subject, or returns a cached one with more than half its validity left. */
  issue(subject: readonly SubjectAttribute[]): Promise<IssuedCertificate> {
    const key = JSON.stringify(subject)
    const cached = this.#cache.get(key)
    if (cached !== undefined) {
      return cached.then((c) =>
        c.notAfter - Date.now() > this.#validityMs / 2 ? c : this.#fresh(key, subject),
      )
    }
    return this.#fresh(key, subject)
  }

  #fresh(key: string, subject: readonly SubjectAttribute[]): Promise<IssuedCertificate> {
    const p = this.#create(subject)
    this.#cache.delete(key)
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
    this.#cache.set(key, p)
    p.catch(() => this.#cache.delete(key))
    return p
  }

  async #create(subject: readonly SubjectAttribute[]): Promise<IssuedCertificate> {
    // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
    const serial = randomBytes(16)
    serial[0] = (serial[0] ?? 0) & 0x7f
    const { cert, privateKey } = await newCertificate(serial.toString('hex'), this.#validityMs)
    cert.setSubject(
      subject.map((a) => ({
        shortName: a.name,
        value: a.value,
        valueTagClass: forge.asn1.Type.UTF8 as number,
      })),
    )
    cert.setIssuer(this.#caCert.subject.attributes)
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ])
    cert.sign(this.#caKey, forge.md.sha256.create())
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary')
    return {
      certPem: forge.pki.certificateToPem(cert),
      keyPem: privateKey,
      derBase64: der.toString('base64'),
      notAfter: cert.validity.notAfter.getTime(),
    }
  }
}

/** A fresh RSA 2048 key pair and an unsigned certificate for it, valid from now (backdated) for `validityMs`. */
async function newCertificate(
  serialNumber: string,
  validityMs: number,
): Promise<{ cert: forge.pki.Certificate; privateKey: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey)
  cert.serialNumber = serialNumber
  const now = Date.now()
  cert.validity.notBefore = new Date(now - BACKDATE_MS)
  cert.validity.notAfter = new Date(now + validityMs)
  return { cert, privateKey }
}

/**
 * Creates a self-signed CA for development and tests (10 years, RSA 2048).
 * @example const { certPem, keyPem } = await createLocalCa('Dev PP CA'); await writeFile('ca.pem', certPem)
 */
export async function createLocalCa(commonName = 'cap-connectivity principal propagation CA'): Promise<{
  certPem: string
  keyPem: string
}> {
  const { cert, privateKey } = await newCertificate(
    `01${randomBytes(8).toString('hex')}`,
    10 * 365 * 86_400_000,
  )
  const attrs = [{ shortName: 'CN', value: commonName }]
  cert.setSubject(attrs)
  cert.setIssuer(attrs)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ])
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(cert)
  // Sanity check with Node's own parser so a broken CA fails here, not at the backend.
  new X509Certificate(certPem)
  return { certPem, keyPem: privateKey }
}
