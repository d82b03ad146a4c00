/**
 * BTP flat key-value destination → typed, frozen {@link Destination}. Each `Type` has its own
 * parser; this file holds the common part and HTTP (by far the most common type).
 */
import type {
  AuthenticationType,
  AuthToken,
  Destination,
  DestinationCertificate,
  DestinationSource,
  DestinationType,
  HttpDestination,
  ProxyType,
} from './types'
import { hideSecretsWhenPrinted } from './mask'
import { normalizeProperties } from './normalize'
import { parseLdap, parseMail, parseRfc, parseTcp } from './parse-kinds'
import {
  bool,
  compact,
  deepFreeze,
  invalid,
  oneOf,
  opt,
  type ParseScope,
  prefixed,
  req,
  reqSecret,
  secret,
  url,
} from './parse-util'

export const DESTINATION_TYPES: readonly DestinationType[] = ['HTTP', 'RFC', 'TCP', 'LDAP', 'MAIL']
export const PROXY_TYPES: readonly ProxyType[] = ['Internet', 'OnPremise', 'PrivateLink']
export const AUTHENTICATION_TYPES: readonly AuthenticationType[] = [
  'NoAuthentication',
  'BasicAuthentication',
  'ClientCertificateAuthentication',
  'PrincipalPropagation',
  'OAuth2ClientCredentials',
  'OAuth2UserTokenExchange',
  'OAuth2JWTBearer',
  'OAuth2Password',
  'OAuth2SAMLBearerAssertion',
  'SAMLAssertion',
  'OAuth2RefreshToken',
  'OAuth2AuthorizationCode',
  'OAuth2TechnicalUserPropagation',
  'OAuth2TokenExchange',
]

export interface ParseContext {
  source?: DestinationSource
  origin?: string
}

/** What the Destination service adds to a configuration (internal: sources pass it in). */
export interface ServiceExtras {
  authTokens?: readonly AuthToken[]
  certificates?: readonly DestinationCertificate[]
}

/** The fields every destination type shares; the type parsers add theirs. */
export interface CommonFields {
  name: string
  type: DestinationType
  proxyType: ProxyType
  authentication: AuthenticationType
  locationId: string
  properties: Readonly<Record<string, string>>
  source: DestinationSource
  origin?: string
  authTokens?: readonly AuthToken[]
  certificates?: readonly DestinationCertificate[]
}

const HTTP_SCHEMES = ['http', 'https'] as const

/** Which properties each authentication needs locally (the Destination service runs the flows itself). */
function checkHttpCredentials(scope: ParseScope, auth: AuthenticationType): void {
  const why = `for Authentication ${auth}`
  const oauthClient = () => {
    url(scope, 'tokenServiceURL', HTTP_SCHEMES, why)
    req(scope, 'clientId', why)
  }
  switch (auth) {
    case 'BasicAuthentication':
      req(scope, 'User', why)
      reqSecret(scope, 'Password', why)
      break
    case 'ClientCertificateAuthentication':
      req(scope, 'KeyStoreLocation', why)
      break
    case 'OAuth2ClientCredentials':
    case 'OAuth2UserTokenExchange':
    case 'OAuth2JWTBearer':
    case 'OAuth2TechnicalUserPropagation':
      oauthClient()
      // with a client certificate (KeyStoreLocation) no secret is needed
      if (!opt(scope, 'KeyStoreLocation') && !opt(scope, 'tokenService.KeyStoreLocation'))
        reqSecret(scope, 'clientSecret', why)
      break
    case 'OAuth2Password':
      oauthClient()
      req(scope, 'User', why)
      reqSecret(scope, 'Password', why)
      break
    case 'OAuth2SAMLBearerAssertion':
      url(scope, 'tokenServiceURL', HTTP_SCHEMES, why)
      break
    case 'OAuth2RefreshToken':
    case 'OAuth2AuthorizationCode':
    case 'OAuth2TokenExchange':
      oauthClient()
      break
    default:
      // NoAuthentication, PrincipalPropagation (the user JWT is needed when sending, not here), SAMLAssertion
      break
  }
}

function parseHttp(scope: ParseScope, common: CommonFields, fromService: boolean): HttpDestination {
  const props = scope.props
  const destUrl = url(scope, 'URL', HTTP_SCHEMES, 'for Type HTTP')
  if (!fromService) checkHttpCredentials(scope, common.authentication)
  const sapClient = opt(scope, 'sap-client')
  if (sapClient !== undefined && !/^\d{3}$/.test(sapClient))
    throw invalid(scope, 'sap-client', 'must be a three-digit SAP client, e.g. 100')
  const credentials = compact({
    user: opt(scope, 'User'),
    password: secret(scope, 'Password'),
    tokenServiceUrl: url(scope, 'tokenServiceURL', HTTP_SCHEMES),
    tokenServiceUrlType: oneOf(scope, 'tokenServiceURLType', ['Dedicated', 'Common'] as const),
    clientId: opt(scope, 'clientId'),
    clientSecret: secret(scope, 'clientSecret'),
    tokenServiceUser: opt(scope, 'tokenServiceUser'),
    tokenServicePassword: secret(scope, 'tokenServicePassword'),
    scope: opt(scope, 'scope'),
  })
  const tls = compact({
    trustAll: bool(scope, 'TrustAll') ?? false,
    trustStoreLocation: opt(scope, 'TrustStoreLocation'),
    trustStorePassword: secret(scope, 'TrustStorePassword'),
    keyStoreLocation: opt(scope, 'KeyStoreLocation'),
    keyStorePassword: secret(scope, 'KeyStorePassword'),
    hostnameVerifier: oneOf(scope, 'HostnameVerifier', ['Strict', 'BrowserCompatible'] as const),
  })
  return compact({
    ...common,
    type: 'HTTP' as const,
    url: destUrl,
    credentials,
    tls,
    headers: prefixed(props, 'URL.headers.', true),
    queries: prefixed(props, 'URL.queries.', false),
    sapClient,
  })
}

/** RFC keeps proxy type and location in `jco.*` keys; the others use the common keys. */
function commonFields(scope: ParseScope, type: DestinationType, ctx: ParseContext): CommonFields {
  let proxyKey = 'ProxyType'
  let locationKey = 'CloudConnectorLocationId'
  let defaultProxy: ProxyType = 'Internet'
  let authKey = 'Authentication'
  if (type === 'RFC') {
    if (opt(scope, 'jco.destination.proxy_type')) proxyKey = 'jco.destination.proxy_type'
    if (opt(scope, 'jco.client.cloud_connector_location_id'))
      locationKey = 'jco.client.cloud_connector_location_id'
    defaultProxy = 'OnPremise'
  } else if (type === 'LDAP') {
    if (opt(scope, 'ldap.proxyType')) proxyKey = 'ldap.proxyType'
    if (opt(scope, 'ldap.authentication')) authKey = 'ldap.authentication'
  }
  let authentication: AuthenticationType
  if (type === 'RFC') {
    const authType = (opt(scope, 'jco.destination.auth_type') ?? 'CONFIGURED_USER').toLowerCase()
    if (authType === 'principalpropagation') authentication = 'PrincipalPropagation'
    else if (authType === 'technicaluserpropagation') authentication = 'OAuth2TechnicalUserPropagation'
    else if (authType === 'configured_user') authentication = 'BasicAuthentication'
    else
      throw invalid(
        scope,
        'jco.destination.auth_type',
        'must be CONFIGURED_USER, PrincipalPropagation or TechnicalUserPropagation',
      )
  } else {
    // The Cloud SDK treats User+Password without Authentication as basic authentication; so do we.
    const implied =
      opt(scope, 'User') && secret(scope, 'Password') ? 'BasicAuthentication' : 'NoAuthentication'
    authentication = oneOf(scope, authKey, AUTHENTICATION_TYPES, implied)
  }
  return compact({
    name: scope.name,
    type,
    proxyType: oneOf(scope, proxyKey, PROXY_TYPES, defaultProxy),
    authentication,
    locationId: opt(scope, locationKey) ?? '',
    properties: scope.props,
    source: ctx.source ?? 'object',
    origin: ctx.origin,
  })
}

/** Internal entry used by the sources: also attaches service tokens and certificates. */
export function parseWithExtras(
  input: unknown,
  ctx: ParseContext = {},
  extras: ServiceExtras = {},
): Destination {
  const props = Object.freeze(normalizeProperties(input, ctx.origin))
  const name = props.Name?.trim() ?? ''
  const scope: ParseScope = {
    name: name || '(unnamed)',
    props,
    ...(ctx.origin ? { origin: ctx.origin } : {}),
  }
  if (!name) throw invalid(scope, 'Name', 'is required (the name the destination is looked up by)')
  const type = oneOf(scope, 'Type', DESTINATION_TYPES, 'HTTP')
  const common = commonFields(scope, type, ctx)
  if (extras.authTokens) common.authTokens = extras.authTokens
  if (extras.certificates) common.certificates = extras.certificates
  // Tokens present (Destination service, or a Cloud SDK destination that carries them) mean the
  // flow already ran elsewhere; local credential checks would reject what the service hides.
  const fromService = ctx.source === 'service' || (extras.authTokens?.length ?? 0) > 0
  let dest: Destination
  switch (type) {
    case 'HTTP':
      dest = parseHttp(scope, common, fromService)
      break
    case 'TCP':
      dest = parseTcp(scope, common)
      break
    case 'RFC':
      dest = parseRfc(scope, common, fromService)
      break
    case 'LDAP':
      dest = parseLdap(scope, common, fromService)
      break
    case 'MAIL':
      dest = parseMail(scope, common, fromService)
      break
  }
  return deepFreeze(hideSecretsWhenPrinted(dest))
}

/**
 * Parses BTP's flat key-value destination (cockpit export, Destination service, `destinations` env
 * var; SDK-style `name`/`url` keys are accepted too) into a typed, frozen {@link Destination}.
 * A PrincipalPropagation or user-token destination parses without a user JWT.
 * @example parseDestination({ Name: 'S4', Type: 'HTTP', URL: 'http://s4:443', ProxyType: 'OnPremise', Authentication: 'PrincipalPropagation' })
 * @throws DestinationError DESTINATION_INVALID naming the destination, the property and what is expected.
 */
export function parseDestination(props: Record<string, unknown>, ctx?: ParseContext): Destination {
  return parseWithExtras(props, ctx ?? {})
}
