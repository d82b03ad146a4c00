/**
 * Conversion to and from `@sap-cloud-sdk/connectivity`'s `Destination`, so apps can mix both
 * libraries. Pure data: the SDK is never loaded, and its type is mirrored structurally here so our
 * declarations do not depend on the SDK being installed.
 */
import { parseWithExtras } from './parse'
import type { AuthToken, Destination, DestinationCertificate } from './types'

/** The authentication types the Cloud SDK (v4) knows. */
export type CloudSdkAuthenticationType =
  | 'PrincipalPropagation'
  | 'NoAuthentication'
  | 'BasicAuthentication'
  | 'SAMLAssertion'
  | 'OAuth2SAMLBearerAssertion'
  | 'OAuth2ClientCredentials'
  | 'OAuth2UserTokenExchange'
  | 'ClientCertificateAuthentication'
  | 'OAuth2JWTBearer'
  | 'OAuth2Password'
  | 'OAuth2RefreshToken'

const SDK_AUTHS: ReadonlySet<string> = new Set<CloudSdkAuthenticationType>([
  'PrincipalPropagation',
  'NoAuthentication',
  'BasicAuthentication',
  'SAMLAssertion',
  'OAuth2SAMLBearerAssertion',
  'OAuth2ClientCredentials',
  'OAuth2UserTokenExchange',
  'ClientCertificateAuthentication',
  'OAuth2JWTBearer',
  'OAuth2Password',
  'OAuth2RefreshToken',
])

/** Structural mirror of the Cloud SDK's `DestinationAuthToken`. */
export interface CloudSdkAuthToken {
  type: string
  value: string
  expiresIn?: string
  error: string | null
  http_header: { key: string; value: string }
}

/** Structural mirror of the Cloud SDK's `Destination` (the data fields; assignable to it). */
export interface CloudSdkDestination {
  name?: string | null
  url?: string
  type?: 'HTTP' | 'LDAP' | 'MAIL' | 'RFC'
  authentication?: CloudSdkAuthenticationType
  proxyType?: 'OnPremise' | 'Internet' | 'PrivateLink' | null
  sapClient?: string | null
  username?: string | null
  password?: string | null
  authTokens?: CloudSdkAuthToken[] | null
  isTrustingAllCertificates?: boolean
  clientId?: string
  clientSecret?: string
  tokenServiceUrl?: string
  tokenServiceUser?: string
  tokenServicePassword?: string
  originalProperties?: Record<string, unknown>
  cloudConnectorLocationId?: string
  certificates?: { name: string; content: string; type: string }[]
  keyStoreName?: string
  keyStorePassword?: string
  systemUser?: string
  headers?: Record<string, unknown>
  queryParameters?: Record<string, unknown>
  forwardAuthToken?: boolean
}

function tokensToSdk(tokens: readonly AuthToken[] | undefined): CloudSdkAuthToken[] | undefined {
  if (!tokens) return undefined
  const now = Date.now()
  return tokens.map((t) => {
    const out: CloudSdkAuthToken = {
      type: t.type,
      value: t.value,
      error: t.error ?? null,
      http_header: { ...t.httpHeader },
    }
    if (t.expiresAt !== undefined) out.expiresIn = String(Math.max(0, Math.floor((t.expiresAt - now) / 1000)))
    return out
  })
}

/**
 * Our Destination → the Cloud SDK's Destination (e.g. for `executeHttpRequest`). TCP has no SDK
 * type and SDK-unknown authentications are left out; both stay in `originalProperties`.
 * @example executeHttpRequest(toCloudSdkDestination(await getDestination('S4')), { method: 'GET' })
 */
export function toCloudSdkDestination(d: Destination): CloudSdkDestination {
  const out: CloudSdkDestination = {
    name: d.name,
    proxyType: d.proxyType,
    originalProperties: { ...d.properties },
  }
  if (d.type !== 'TCP') out.type = d.type
  if (SDK_AUTHS.has(d.authentication)) out.authentication = d.authentication as CloudSdkAuthenticationType
  if (d.locationId !== '') out.cloudConnectorLocationId = d.locationId
  const tokens = tokensToSdk(d.authTokens)
  if (tokens) out.authTokens = tokens
  if (d.certificates) out.certificates = d.certificates.map((c) => ({ ...c }))
  if (d.type === 'HTTP') {
    const c = d.credentials
    out.url = d.url
    if (c.user !== undefined) out.username = c.user
    if (c.password !== undefined) out.password = c.password
    if (c.clientId !== undefined) out.clientId = c.clientId
    if (c.clientSecret !== undefined) out.clientSecret = c.clientSecret
    if (c.tokenServiceUrl !== undefined) out.tokenServiceUrl = c.tokenServiceUrl
    if (c.tokenServiceUser !== undefined) out.tokenServiceUser = c.tokenServiceUser
    if (c.tokenServicePassword !== undefined) out.tokenServicePassword = c.tokenServicePassword
    if (d.sapClient !== undefined) out.sapClient = d.sapClient
    out.isTrustingAllCertificates = d.tls.trustAll
    if (d.tls.keyStoreLocation !== undefined) out.keyStoreName = d.tls.keyStoreLocation
    if (d.tls.keyStorePassword !== undefined) out.keyStorePassword = d.tls.keyStorePassword
    if (Object.keys(d.headers).length > 0) out.headers = { ...d.headers }
    if (Object.keys(d.queries).length > 0) out.queryParameters = { ...d.queries }
    const systemUser = d.properties.SystemUser
    if (systemUser) out.systemUser = systemUser
    const forward = d.properties.forwardAuthToken ?? d.properties['HTML5.ForwardAuthToken']
    if (forward !== undefined) out.forwardAuthToken = forward.toLowerCase() === 'true'
  } else if (d.type === 'LDAP') {
    out.url = d.url
    if (d.user !== undefined) out.username = d.user
    if (d.password !== undefined) out.password = d.password
  } else if (d.type === 'MAIL') {
    if (d.user !== undefined) out.username = d.user
    if (d.password !== undefined) out.password = d.password
  }
  return out
}

/** SDK field → BTP key, applied over `originalProperties` (the SDK fields win: they may have been edited). */
const FIELD_KEYS: ReadonlyArray<readonly [keyof CloudSdkDestination, string]> = [
  ['name', 'Name'],
  ['url', 'URL'],
  ['type', 'Type'],
  ['authentication', 'Authentication'],
  ['proxyType', 'ProxyType'],
  ['sapClient', 'sap-client'],
  ['username', 'User'],
  ['password', 'Password'],
  ['clientId', 'clientId'],
  ['clientSecret', 'clientSecret'],
  ['tokenServiceUrl', 'tokenServiceURL'],
  ['tokenServiceUser', 'tokenServiceUser'],
  ['tokenServicePassword', 'tokenServicePassword'],
  ['cloudConnectorLocationId', 'CloudConnectorLocationId'],
  ['isTrustingAllCertificates', 'TrustAll'],
  ['keyStoreName', 'KeyStoreLocation'],
  ['keyStorePassword', 'KeyStorePassword'],
  ['systemUser', 'SystemUser'],
  ['forwardAuthToken', 'forwardAuthToken'],
]

/**
 * The Cloud SDK's Destination → ours (validated and frozen, `source: 'object'`). Auth tokens and
 * certificates are kept; a destination without a name is called `unnamed`.
 * @throws DestinationError DESTINATION_INVALID like {@link parseDestination}.
 */
export function fromCloudSdkDestination(sdk: CloudSdkDestination): Destination {
  if (typeof sdk !== 'object' || sdk === null)
    throw new TypeError('fromCloudSdkDestination: expected a Cloud SDK Destination object')
  const props: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(sdk.originalProperties ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') props[k] = String(v)
  }
  for (const [field, key] of FIELD_KEYS) {
    const v = sdk[field]
    if (typeof v === 'string' || typeof v === 'boolean') props[key] = String(v)
  }
  if (props.Name === undefined) props.Name = 'unnamed'
  for (const [k, v] of Object.entries(sdk.headers ?? {}))
    if (v !== undefined && v !== null) props[`URL.headers.${k}`] = String(v)
  for (const [k, v] of Object.entries(sdk.queryParameters ?? {}))
    if (v !== undefined && v !== null) props[`URL.queries.${k}`] = String(v)
  const now = Date.now()
  const authTokens: AuthToken[] = (sdk.authTokens ?? []).map((t) => {
    const token: { -readonly [K in keyof AuthToken]: AuthToken[K] } = {
      type: t.type,
      value: t.value,
      httpHeader: { ...t.http_header },
    }
    const secs = Number(t.expiresIn)
    if (t.expiresIn !== undefined && Number.isFinite(secs)) token.expiresAt = now + secs * 1000
    if (t.error) token.error = t.error
    return token
  })
  const certificates: DestinationCertificate[] = (sdk.certificates ?? []).map((c) => ({ ...c }))
  const extras: { authTokens?: AuthToken[]; certificates?: DestinationCertificate[] } = {}
  if (authTokens.length > 0) extras.authTokens = authTokens
  if (certificates.length > 0) extras.certificates = certificates
  return parseWithExtras(props, { source: 'object', origin: 'Cloud SDK destination' }, extras)
}
