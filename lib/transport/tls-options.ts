/**
 * TLS settings of a destination (TrustAll, trust store, client certificate key store) turned into
 * Node `tls.connect` options. Certificates come from the destination's `certificates[]` (base64 file
 * content, as the BTP Destination service delivers them) or, for local destination files, from a
 * file path.
 */
import { readFileSync } from 'node:fs'
import type { DestinationCertificate, HttpDestination } from '../destination/types'
import { DestinationError } from '../errors'

/** The subset of `tls.connect` options a destination can set. */
export interface DestinationTlsOptions {
  rejectUnauthorized?: boolean
  ca?: string
  cert?: string
  key?: string
  pfx?: Buffer
  passphrase?: string
}

interface LoadedFile {
  readonly data: Buffer
  readonly kind: 'pem' | 'pkcs12' | 'jks'
}

function kindOf(name: string, data: Buffer): LoadedFile['kind'] {
  const lower = name.toLowerCase()
  if (lower.endsWith('.p12') || lower.endsWith('.pfx')) return 'pkcs12'
  if (lower.endsWith('.jks') || lower.endsWith('.keystore')) return 'jks'
  // No telling extension: PEM is text starting with a dash line, anything else is treated as PKCS#12.
  return data.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? 'pem' : 'pkcs12'
}

function loadFile(d: HttpDestination, location: string, property: string): LoadedFile {
  const fromService: DestinationCertificate | undefined = d.certificates?.find((c) => c.name === location)
  let data: Buffer
  if (fromService) {
    data = Buffer.from(fromService.content, 'base64')
  } else {
    try {
      data = readFileSync(location)
    } catch (cause) {
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Destination "${d.name}": ${property} "${location}" is neither in the destination's certificates nor a readable file; upload the certificate or fix the path.`,
        { cause, details: { destination: d.name, property } },
      )
    }
  }
  const kind = kindOf(fromService?.type ? `${location}.${fromService.type}` : location, data)
  if (kind === 'jks') {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}": ${property} "${location}" is a Java key store; convert it to PEM or PKCS#12 (.p12/.pfx).`,
      { details: { destination: d.name, property } },
    )
  }
  return { data, kind }
}

/**
 * Builds the TLS options for an HTTPS destination, or `undefined` when the defaults apply.
 * @throws DESTINATION_INVALID when a referenced certificate is missing or in an unsupported format.
 */
export function tlsOptionsFor(d: HttpDestination): DestinationTlsOptions | undefined {
  // Certificates are decoded (or read from disk) once per destination object.
  if (cache.has(d)) return cache.get(d)
  const out = buildTlsOptions(d)
  cache.set(d, out)
  return out
}

const cache = new WeakMap<HttpDestination, DestinationTlsOptions | undefined>()

function buildTlsOptions(d: HttpDestination): DestinationTlsOptions | undefined {
  const { tls } = d
  const out: DestinationTlsOptions = {}
  let any = false
  if (tls.trustAll) {
    out.rejectUnauthorized = false
    any = true
  }
  if (tls.trustStoreLocation) {
    const file = loadFile(d, tls.trustStoreLocation, 'TrustStoreLocation')
    if (file.kind !== 'pem') {
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Destination "${d.name}": TrustStoreLocation "${tls.trustStoreLocation}" must be a PEM file of CA certificates.`,
        { details: { destination: d.name, property: 'TrustStoreLocation' } },
      )
    }
    out.ca = file.data.toString('utf8')
    any = true
  }
  if (tls.keyStoreLocation) {
    const file = loadFile(d, tls.keyStoreLocation, 'KeyStoreLocation')
    if (file.kind === 'pkcs12') {
      out.pfx = file.data
      if (tls.keyStorePassword !== undefined) out.passphrase = tls.keyStorePassword
    } else {
      // One PEM file holding the certificate chain and the private key: OpenSSL picks the blocks it
      // needs from each option, so the same text serves as both.
      const pem = file.data.toString('utf8')
      out.cert = pem
      out.key = pem
      if (tls.keyStorePassword !== undefined) out.passphrase = tls.keyStorePassword
    }
    any = true
  }
  return any ? out : undefined
}
