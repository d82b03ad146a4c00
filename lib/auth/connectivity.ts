/**
 * The connectivity service binding (Cloud Foundry / SERVICE_BINDING_ROOT / default-env.json) or the
 * Kyma `connectivity-proxy-info` keys given as environment variables, and the tokens the proxy wants:
 * a client-credentials token in the caller's tenant, or a jwt-bearer exchanged user token.
 */
import { ConnectivityError } from '../errors'
import { findServiceBinding } from './bindings'
import { decodeJwt } from './jwt'
import { fetchToken, type TokenRequest, tokenUrlForTenant } from './token-client'

/** What the transports need from the connectivity binding. `clientSecret` is a secret: never log it. */
export interface ConnectivityBinding {
  readonly host: string
  /** HTTP proxy port (`onpremise_proxy_http_port`, falling back to `onpremise_proxy_port`). */
  readonly httpPort?: number
  /** SOCKS5 proxy port (`onpremise_socks5_proxy_port`). */
  readonly socksPort?: number
  readonly clientId?: string
  readonly clientSecret?: string
  /** `token_service_url`, else `url` (XSUAA base URL). */
  readonly tokenServiceUrl?: string
  /** The provider tenant (`tenantid` / `identityzone`), to tell provider from subscriber JWTs. */
  readonly tenantId?: string
  /** Trusted mode (Kyma module default): the proxy expects no `Proxy-Authorization`. */
  readonly trusted: boolean
  /** Where the values came from, for messages. */
  readonly origin: string
}

const KEYS = [
  'onpremise_proxy_host',
  'onpremise_proxy_http_port',
  'onpremise_proxy_port',
  'onpremise_socks5_proxy_port',
]

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v
  if (typeof v === 'number') return String(v)
  return undefined
}

function port(v: unknown, key: string, origin: string): number | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  const n = Number(s)
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new ConnectivityError('CONFIG_INVALID', `${origin}: "${key}" must be a port number, got "${s}".`, {
      details: { key },
    })
  }
  return n
}

function fromRecord(
  c: Readonly<Record<string, unknown>>,
  origin: string,
  trustedDefault: boolean,
): ConnectivityBinding {
  const host = str(c.onpremise_proxy_host)
  if (!host) {
    throw new ConnectivityError(
      'CONFIG_INVALID',
      `${origin} has no "onpremise_proxy_host"; is this a connectivity binding?`,
    )
  }
  const httpPort =
    port(c.onpremise_proxy_http_port, 'onpremise_proxy_http_port', origin) ??
    port(c.onpremise_proxy_port, 'onpremise_proxy_port', origin)
  const socksPort = port(c.onpremise_socks5_proxy_port, 'onpremise_socks5_proxy_port', origin)
  const clientId = str(c.clientid)
  const clientSecret = str(c.clientsecret)
  const tokenServiceUrl = str(c.token_service_url) ?? str(c.url)
  const tenantId = str(c.tenantid) ?? str(c.identityzoneid) ?? str(c.subaccountid)
  return {
    host,
    ...(httpPort !== undefined ? { httpPort } : {}),
    ...(socksPort !== undefined ? { socksPort } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(tokenServiceUrl !== undefined ? { tokenServiceUrl } : {}),
    ...(tenantId !== undefined ? { tenantId } : {}),
    trusted: trustedDefault || !clientId || !tokenServiceUrl,
    origin,
  }
}

/**
 * Reads the connectivity binding: a service bound with label or tag `connectivity`, else the Kyma
 * `connectivity-proxy-info` keys as environment variables (`onpremise_proxy_host`, … or the same in
 * upper case), which means trusted mode unless `clientid`/`clientsecret` are bound too.
 * @returns undefined when neither is present.
 * @throws CONFIG_INVALID when the binding lacks the proxy host or has a malformed port.
 */
export function readConnectivityBinding(): ConnectivityBinding | undefined {
  const binding = findServiceBinding('connectivity')
  if (binding) return fromRecord(binding.credentials, `connectivity binding "${binding.name}"`, false)
  const env: Record<string, unknown> = {}
  for (const key of KEYS) {
    const v = process.env[key] ?? process.env[key.toUpperCase()]
    if (v !== undefined) env[key] = v
  }
  if (env.onpremise_proxy_host === undefined) return undefined
  return fromRecord(env, 'environment (connectivity-proxy-info)', true)
}

function missingBinding(destinationName: string): ConnectivityError {
  return new ConnectivityError(
    'BINDING_NOT_FOUND',
    `Destination "${destinationName}" is OnPremise but no connectivity binding was found; bind the connectivity service, set the connectivity-proxy-info environment variables, or configure a tunnel.`,
    { details: { destination: destinationName } },
  )
}

/** The binding, or BINDING_NOT_FOUND naming the destination that needed it. */
export function requireConnectivityBinding(destinationName: string): ConnectivityBinding {
  const b = readConnectivityBinding()
  if (!b) throw missingBinding(destinationName)
  return b
}

/**
 * The connectivity service's client-credentials token in the tenant of `jwt` (provider tenant
 * without a JWT). `undefined` in trusted mode.
 * @throws TOKEN_FETCH_FAILED, TOKEN_INVALID
 */
export async function connectivityToken(b: ConnectivityBinding, jwt?: string): Promise<string | undefined> {
  if (b.trusted || !b.clientId || !b.tokenServiceUrl) return undefined
  return bindingToken(b, b.clientId, b.tokenServiceUrl, jwt, { grantType: 'client_credentials' })
}

/**
 * Principal propagation form B: exchanges the user's JWT for a connectivity token that carries the
 * user (jwt-bearer grant at the binding's token endpoint in the user's tenant).
 * @throws TOKEN_FETCH_FAILED, TOKEN_INVALID
 */
export async function exchangeUserToken(b: ConnectivityBinding, jwt: string): Promise<string> {
  if (!b.clientId || !b.tokenServiceUrl) {
    throw new ConnectivityError(
      'CONFIG_INVALID',
      `${b.origin} has no client credentials for the token exchange; use principal propagation by forwarding.`,
    )
  }
  return bindingToken(b, b.clientId, b.tokenServiceUrl, jwt, {
    grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: jwt,
  })
}

/** A token from the binding's token endpoint in the tenant of `jwt` (the binding's tenant without one). */
async function bindingToken(
  b: ConnectivityBinding,
  clientId: string,
  tokenServiceUrl: string,
  jwt: string | undefined,
  grant: Pick<TokenRequest, 'grantType' | 'assertion'>,
): Promise<string> {
  const { url, headers } = tokenUrlForTenant(tokenServiceUrl, jwt, b.tenantId)
  const token = await fetchToken({
    tokenUrl: url,
    ...grant,
    clientId,
    ...(b.clientSecret !== undefined ? { clientSecret: b.clientSecret } : {}),
    headers,
  })
  return token.accessToken
}

/** True for IAS user tokens, which the token exchange does not accept (SAP: forward them instead). */
export function isIasToken(jwt: string): boolean {
  return decodeJwt(jwt).isIas
}
