/**
 * The destination model: BTP's flat key-value destinations parsed into a typed, frozen shape,
 * discriminated by `type`. The raw map stays available as `properties` for anything not modelled.
 */

export type DestinationType = 'HTTP' | 'RFC' | 'TCP' | 'LDAP' | 'MAIL'
export type ProxyType = 'Internet' | 'OnPremise' | 'PrivateLink'

export type AuthenticationType =
  | 'NoAuthentication'
  | 'BasicAuthentication'
  | 'ClientCertificateAuthentication'
  | 'PrincipalPropagation'
  | 'OAuth2ClientCredentials'
  | 'OAuth2UserTokenExchange'
  | 'OAuth2JWTBearer'
  | 'OAuth2Password'
  | 'OAuth2SAMLBearerAssertion'
  | 'SAMLAssertion'
  | 'OAuth2RefreshToken'
  | 'OAuth2AuthorizationCode'
  | 'OAuth2TechnicalUserPropagation'
  | 'OAuth2TokenExchange'

/** Where a resolved destination came from (shown by the CLI, used in error messages). */
export type DestinationSource = 'object' | 'registry' | 'file' | 'env' | 'service'

/** A token the BTP Destination service retrieved for the destination (`authTokens[]`). */
export interface AuthToken {
  readonly type: string
  readonly value: string
  /** The ready header, e.g. `{ key: 'Authorization', value: 'Bearer …' }`. */
  readonly httpHeader: { readonly key: string; readonly value: string }
  /** Absolute expiry (epoch ms), when the service said `expires_in`. */
  readonly expiresAt?: number
  readonly error?: string
}

/** A certificate delivered with the destination (`certificates[]`): base64 content of a PEM/P12/PFX file. */
export interface DestinationCertificate {
  readonly name: string
  readonly content: string
  readonly type: string
}

export interface DestinationBase {
  readonly name: string
  readonly type: DestinationType
  readonly proxyType: ProxyType
  readonly authentication: AuthenticationType
  /** Cloud Connector location id; `''` is the default location. */
  readonly locationId: string
  /** The raw flat property map exactly as given (string values). */
  readonly properties: Readonly<Record<string, string>>
  readonly source: DestinationSource
  /** Human-readable origin, e.g. the file path or `destination service (subaccount)`. Never a secret. */
  readonly origin?: string
  readonly authTokens?: readonly AuthToken[]
  readonly certificates?: readonly DestinationCertificate[]
}

export interface HttpCredentials {
  readonly user?: string
  readonly password?: string
  readonly tokenServiceUrl?: string
  readonly tokenServiceUrlType?: 'Dedicated' | 'Common'
  readonly clientId?: string
  readonly clientSecret?: string
  readonly tokenServiceUser?: string
  readonly tokenServicePassword?: string
  readonly scope?: string
}

export interface TlsSettings {
  readonly trustAll: boolean
  readonly trustStoreLocation?: string
  readonly trustStorePassword?: string
  readonly keyStoreLocation?: string
  readonly keyStorePassword?: string
  readonly hostnameVerifier?: 'Strict' | 'BrowserCompatible'
}

export interface HttpDestination extends DestinationBase {
  readonly type: 'HTTP'
  /** The URL without trailing slash; for OnPremise the virtual URL. */
  readonly url: string
  readonly credentials: HttpCredentials
  readonly tls: TlsSettings
  /** From `URL.headers.<name>` (names lower-cased). */
  readonly headers: Readonly<Record<string, string>>
  /** From `URL.queries.<name>`. */
  readonly queries: Readonly<Record<string, string>>
  readonly sapClient?: string
}

export interface TcpOptions {
  readonly nodelay?: boolean
  readonly keepalive?: boolean
  readonly timeoutMs?: number
  readonly lingerSeconds?: number
  readonly sndbuf?: number
  readonly rcvbuf?: number
  readonly reuseaddr?: boolean
}

export interface TcpDestination extends DestinationBase {
  readonly type: 'TCP'
  readonly address: { readonly host: string; readonly port: number }
  readonly tcp: TcpOptions
}

/** `jco.client.*` / `jco.destination.*` grouped; values kept as strings, as JCo takes them. */
export interface RfcSettings {
  readonly ashost?: string
  readonly sysnr?: string
  readonly mshost?: string
  readonly msserv?: string
  readonly r3name?: string
  readonly group?: string
  readonly wshost?: string
  readonly wsport?: string
  readonly saprouter?: string
  readonly client?: string
  readonly user?: string
  readonly aliasUser?: string
  readonly passwd?: string
  readonly lang?: string
  /** `jco.destination.auth_type`: `CONFIGURED_USER` (default), `PrincipalPropagation`, `TechnicalUserPropagation`. */
  readonly authType: string
  readonly pooling: {
    readonly poolCapacity?: number
    readonly peakLimit?: number
    readonly maxGetClientTime?: number
    readonly expirationTime?: number
    readonly expirationCheckPeriod?: number
  }
  /** Every other `jco.client.<key>` (key without the prefix). */
  readonly clientExtra: Readonly<Record<string, string>>
  /** Every other `jco.destination.<key>` (key without the prefix). */
  readonly destinationExtra: Readonly<Record<string, string>>
}

export interface RfcDestination extends DestinationBase {
  readonly type: 'RFC'
  readonly rfc: RfcSettings
}

export interface LdapDestination extends DestinationBase {
  readonly type: 'LDAP'
  readonly url: string
  readonly user?: string
  readonly password?: string
}

export interface MailDestination extends DestinationBase {
  readonly type: 'MAIL'
  readonly protocol: string
  readonly host?: string
  readonly port?: number
  readonly user?: string
  readonly password?: string
  readonly from?: string
}

export type Destination =
  | HttpDestination
  | RfcDestination
  | TcpDestination
  | LdapDestination
  | MailDestination

/** A flat BTP destination as found in files, env vars and the Destination service. */
export type DestinationProperties = Readonly<Record<string, string>>

/** Authentication types whose result depends on the calling user (cached per user, need a JWT to send). */
export const USER_DEPENDENT_AUTHENTICATIONS: ReadonlySet<AuthenticationType> = new Set<AuthenticationType>([
  'PrincipalPropagation',
  'OAuth2UserTokenExchange',
  'OAuth2JWTBearer',
  'OAuth2SAMLBearerAssertion',
  'SAMLAssertion',
])
