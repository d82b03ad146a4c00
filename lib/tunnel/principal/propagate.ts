/**
 * Principal propagation at the agent: verify the user JWT that came with a stream, then hand the
 * backend the user either in a header or as a short-lived X.509 certificate.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { debuglog } from 'node:util'
import { AuthError, ConnectivityError } from '../../errors'
import { CertificateIssuer } from './certificate'
import { createJwtVerifier, type JwtVerifier, type TrustConfig } from './trust'
import { parseSubjectPattern, renderSubject, type SubjectAttribute, userOfClaims } from './user'

const debug = debuglog('cap-connectivity:principal')

/** Default header for `mode: "header"`. */
export const DEFAULT_USER_HEADER = 'SAP-Connectivity-User'
/** Header carrying the user certificate (base64 DER, one line), as the Cloud Connector sends it. */
export const CLIENT_CERT_HEADER = 'SSL_CLIENT_CERT'

/** A mapping's `principalPropagation`, validated. */
export type PrincipalPropagationConfig =
  | { readonly mode: 'header'; readonly header: string }
  | {
      readonly mode: 'certificate'
      readonly subjectPattern: string
      readonly subject: readonly SubjectAttribute[]
      /** Absolute paths of the CA certificate and key (PEM). */
      readonly caCert: string
      readonly caKey: string
      readonly as: 'SSL_CLIENT_CERT' | 'mtls'
      readonly validitySeconds?: number
    }

/** What the agent applies to the backend request for one propagated user. */
export interface PropagationResult {
  readonly user: string
  /** Headers to set on the request towards the backend. */
  readonly headers: Readonly<Record<string, string>>
  /** Client certificate for mTLS to the backend (`as: "mtls"`). */
  readonly tls?: { readonly cert: string; readonly key: string }
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Validates `principalPropagation` of an agent.json mapping; relative CA paths resolve against `baseDir`.
 * @throws ConnectivityError `CONFIG_INVALID` naming the property.
 */
export function parsePrincipalPropagation(
  value: unknown,
  where = 'principalPropagation',
  baseDir = process.cwd(),
): PrincipalPropagationConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConnectivityError('CONFIG_INVALID', `${where} must be an object with "mode"`)
  }
  const v = value as Record<string, unknown>
  const mode = v.mode ?? 'header'
  if (mode === 'header') {
    const header = v.header ?? DEFAULT_USER_HEADER
    if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.header must be an HTTP header name`)
    }
    return { mode, header }
  }
  if (mode !== 'certificate') {
    throw new ConnectivityError('CONFIG_INVALID', `${where}.mode must be "header" or "certificate"`)
  }
  const path = (key: 'caCert' | 'caKey'): string => {
    const p = v[key]
    if (typeof p !== 'string' || p === '') {
      throw new ConnectivityError('CONFIG_INVALID', `${where}.${key} must be a file path (PEM)`)
    }
    return isAbsolute(p) ? p : resolve(baseDir, p)
  }
  const as = v.as ?? CLIENT_CERT_HEADER
  if (as !== CLIENT_CERT_HEADER && as !== 'mtls') {
    throw new ConnectivityError('CONFIG_INVALID', `${where}.as must be "SSL_CLIENT_CERT" or "mtls"`)
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a subject pattern placeholder, not a template
  const pattern = v.subjectPattern ?? 'CN=${name}'
  if (typeof pattern !== 'string') {
    throw new ConnectivityError('CONFIG_INVALID', `${where}.subjectPattern must be a string`)
  }
  const validity = v.validitySeconds
  if (validity !== undefined && (typeof validity !== 'number' || !Number.isInteger(validity))) {
    throw new ConnectivityError('CONFIG_INVALID', `${where}.validitySeconds must be an integer`)
  }
  return {
    mode,
    subjectPattern: pattern,
    subject: parseSubjectPattern(pattern),
    caCert: path('caCert'),
    caKey: path('caKey'),
    as,
    ...(validity === undefined ? {} : { validitySeconds: validity }),
  }
}

export interface PrincipalPropagatorOptions {
  /** Trust for user JWTs (agent.json `trust`), or a ready verifier. Without it every propagation is refused. */
  readonly trust?: TrustConfig | JwtVerifier
}

/**
 * Turns (mapping config, user JWT from the stream) into backend headers / TLS identity.
 * @example const pp = new PrincipalPropagator({ trust: { secret } }); const r = await pp.propagate(cfg, jwt)
 */
export class PrincipalPropagator {
  readonly #verify: JwtVerifier | undefined
  readonly #issuers = new Map<string, CertificateIssuer>()

  constructor(options: PrincipalPropagatorOptions = {}) {
    const t = options.trust
    this.#verify = t === undefined ? undefined : typeof t === 'function' ? t : createJwtVerifier(t)
  }

  /**
   * Verifies `jwt` and builds the propagation for `config`.
   * @throws AuthError `TOKEN_MISSING` (no user JWT), `TOKEN_INVALID` (bad signature, expired, wrong issuer/audience);
   *   ConnectivityError `ACCESS_DENIED` (no trust configured, or the token names no user).
   */
  async propagate(config: PrincipalPropagationConfig, jwt: string | undefined): Promise<PropagationResult> {
    if (this.#verify === undefined) {
      throw new ConnectivityError(
        'ACCESS_DENIED',
        'Principal propagation is configured but the agent has no "trust"; add trust.secret or trust.jwksUri to agent.json',
      )
    }
    if (jwt === undefined || jwt === '') {
      throw new AuthError(
        'TOKEN_MISSING',
        'This mapping propagates the user, but the request carries no user token',
      )
    }
    const claims = await this.#verify(jwt)
    const user = userOfClaims(claims)
    if (user === undefined) {
      throw new ConnectivityError('ACCESS_DENIED', 'The user token has no user_name, email or sub claim')
    }
    if (config.mode === 'header') {
      debug('propagating user via header %s', config.header)
      return { user, headers: { [config.header]: user } }
    }
    const cert = await this.#issuer(config).issue(renderSubject(config.subject, claims))
    debug('issued certificate for the user (as %s)', config.as)
    if (config.as === 'mtls') return { user, headers: {}, tls: { cert: cert.certPem, key: cert.keyPem } }
    return { user, headers: { [CLIENT_CERT_HEADER]: cert.derBase64 } }
  }

  #issuer(config: Extract<PrincipalPropagationConfig, { mode: 'certificate' }>): CertificateIssuer {
    const key = `${config.caCert}\0${config.caKey}\0${config.validitySeconds ?? ''}`
    let issuer = this.#issuers.get(key)
    if (issuer === undefined) {
      const read = (p: string, what: string): string => {
        try {
          return readFileSync(p, 'utf8')
        } catch (err) {
          throw new ConnectivityError(
            'CONFIG_INVALID',
            `Cannot read the principal-propagation ${what} file ${p}`,
            {
              cause: err,
            },
          )
        }
      }
      issuer = new CertificateIssuer({
        caCert: read(config.caCert, 'CA certificate'),
        caKey: read(config.caKey, 'CA key'),
        ...(config.validitySeconds === undefined ? {} : { validitySeconds: config.validitySeconds }),
      })
      this.#issuers.set(key, issuer)
    }
    return issuer
  }
}

/**
 * Headers of an incoming request that must never reach a backend as sent by the caller: proxy
 * credentials, SAP-Connectivity-* (tokens, location), hop-by-hop headers, and identity headers a
 * backend trusts from the agent (`SSL_CLIENT_CERT`, the configured user header).
 * @example const clean = stripForBackend(req.headers, mapping.principalPropagation)
 */
export function stripForBackend<T>(
  headers: Readonly<Record<string, T>>,
  config?: PrincipalPropagationConfig,
): Record<string, T> {
  const userHeader = config?.mode === 'header' ? config.header.toLowerCase() : undefined
  const connectionListed = new Set<string>()
  const conn = headers.connection ?? headers.Connection
  for (const c of Array.isArray(conn) ? conn : [conn]) {
    if (typeof c === 'string') for (const t of c.split(',')) connectionListed.add(t.trim().toLowerCase())
  }
  const out: Record<string, T> = {}
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase()
    if (
      n.startsWith('sap-connectivity-') ||
      n === 'proxy-authorization' ||
      n === 'proxy-connection' ||
      n === 'ssl_client_cert' ||
      n === 'ssl-client-cert' ||
      n === userHeader ||
      HOP_BY_HOP.has(n) ||
      connectionListed.has(n)
    ) {
      continue
    }
    out[name] = value
  }
  return out
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
])
