/**
 * The `Authorization` header (or nothing) a destination's authentication type asks for. Token flows
 * use the token client's cache (per tenant for technical flows, per user for user flows); tokens
 * the BTP Destination service already retrieved (`authTokens`) are used as they are.
 */
import type { HttpDestination } from '../destination/types'
import { AuthError, DestinationError } from '../errors'
import { assertUsableJwt } from './jwt'
import { fetchToken, type TokenRequest, tokenUrlForTenant } from './token-client'

/** Header name → value, lower-case names. */
export type AuthHeaders = Record<string, string>

export interface AuthorizationOptions {
  /** The calling user's JWT (required for user flows and principal propagation). */
  readonly jwt?: string | undefined
}

function need(d: HttpDestination, value: string | undefined, property: string): string {
  if (value === undefined || value === '') {
    throw new DestinationError(
      'DESTINATION_INVALID',
      `Destination "${d.name}" uses ${d.authentication} but has no "${property}"; add it to the destination.`,
      { details: { destination: d.name, property } },
    )
  }
  return value
}

function requireJwt(d: HttpDestination, jwt: string | undefined): string {
  if (!jwt) {
    throw new AuthError(
      'TOKEN_MISSING',
      `Destination "${d.name}" uses ${d.authentication}, which needs the calling user's JWT; pass { jwt } to the call.`,
      { details: { destination: d.name } },
    )
  }
  assertUsableJwt(jwt)
  return jwt
}

/** Tokens from the Destination service: the first usable one wins; all failing is an error. */
function fromServiceTokens(d: HttpDestination): AuthHeaders | undefined {
  const tokens = d.authTokens
  if (!tokens || tokens.length === 0) return undefined
  const now = Date.now()
  const usable = tokens.find((t) => !t.error && (t.expiresAt === undefined || t.expiresAt > now))
  if (usable) return { [usable.httpHeader.key.toLowerCase()]: usable.httpHeader.value }
  const reasons = tokens.map((t) => t.error ?? 'expired').join('; ')
  throw new AuthError(
    'TOKEN_FETCH_FAILED',
    `The Destination service returned no usable token for destination "${d.name}" (${reasons}); check the destination's OAuth settings.`,
    { details: { destination: d.name } },
  )
}

function tokenEndpoint(
  d: HttpDestination,
  jwt: string | undefined,
): { url: string; headers: Record<string, string> } {
  const base = need(d, d.credentials.tokenServiceUrl, 'tokenServiceURL')
  // Common token URLs are tenant-neutral: the subscriber's subdomain (or x-zid) selects the tenant.
  if (d.credentials.tokenServiceUrlType === 'Common' && jwt) return tokenUrlForTenant(base, jwt)
  return { url: base, headers: {} }
}

async function oauth(
  d: HttpDestination,
  req: Omit<TokenRequest, 'tokenUrl' | 'clientId'>,
  jwt?: string,
): Promise<AuthHeaders> {
  const { url, headers } = tokenEndpoint(d, jwt)
  const c = d.credentials
  // tokenServiceUser/tokenServicePassword: the token endpoint wants HTTP Basic instead of body credentials.
  const basic = c.tokenServiceUser !== undefined && c.tokenServicePassword !== undefined
  const token = await fetchToken({
    ...req,
    tokenUrl: url,
    ...(basic
      ? {
          clientId: c.tokenServiceUser as string,
          clientSecret: c.tokenServicePassword as string,
          credentialsInBody: false,
        }
      : {
          clientId: need(d, c.clientId, 'clientId'),
          ...(c.clientSecret !== undefined ? { clientSecret: c.clientSecret } : {}),
        }),
    ...(c.scope !== undefined ? { scope: c.scope } : {}),
    headers,
  })
  return { authorization: `Bearer ${token.accessToken}` }
}

/**
 * Computes the authentication headers for an HTTP destination. Principal propagation yields no
 * `Authorization` here: the proxy or tunnel route carries the user instead.
 * @example const headers = await authorizationFor(destination, { jwt })
 * @throws DESTINATION_INVALID (missing credentials, unsupported type), TOKEN_MISSING, TOKEN_INVALID, TOKEN_FETCH_FAILED
 */
export async function authorizationFor(
  d: HttpDestination,
  opts: AuthorizationOptions = {},
): Promise<AuthHeaders> {
  const { jwt } = opts
  switch (d.authentication) {
    case 'NoAuthentication':
    case 'ClientCertificateAuthentication':
      // The client certificate travels in the TLS handshake (see tls-options.ts).
      return {}
    case 'BasicAuthentication': {
      const user = need(d, d.credentials.user, 'User')
      const password = need(d, d.credentials.password, 'Password')
      return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
    }
    case 'PrincipalPropagation':
      if (d.proxyType !== 'OnPremise') {
        throw new DestinationError(
          'DESTINATION_INVALID',
          `Destination "${d.name}" uses PrincipalPropagation, which needs ProxyType OnPremise (it has ${d.proxyType}).`,
          { details: { destination: d.name, property: 'ProxyType' } },
        )
      }
      requireJwt(d, jwt)
      return {}
    case 'OAuth2ClientCredentials':
      return fromServiceTokens(d) ?? oauth(d, { grantType: 'client_credentials' }, jwt)
    case 'OAuth2UserTokenExchange':
    case 'OAuth2JWTBearer': {
      const service = fromServiceTokens(d)
      if (service) return service
      const assertion = requireJwt(d, jwt)
      return oauth(d, { grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }, assertion)
    }
    case 'OAuth2Password':
      return (
        fromServiceTokens(d) ??
        oauth(d, {
          grantType: 'password',
          username: need(d, d.credentials.user, 'User'),
          password: need(d, d.credentials.password, 'Password'),
        })
      )
    default: {
      // SAML and the remaining OAuth flows need the Destination service to run them.
      const service = fromServiceTokens(d)
      if (service) return service
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Destination "${d.name}" uses ${d.authentication}, which only works with tokens from the BTP Destination service; bind the destination service or choose another authentication type.`,
        { details: { destination: d.name, property: 'Authentication' } },
      )
    }
  }
}
