/**
 * The BTP Destination service (when a `destination` binding exists): a client-credentials token in
 * the caller's tenant, then "find destination" — first with `$skipTokenRetrieval=true` to learn the
 * authentication, then, only for token-bearing authentications, a second call that lets the service
 * run the OAuth flow (with `X-user-token` for user-dependent ones). No binding, no request.
 */
import { debuglog } from 'node:util'
import type { ServiceBinding } from '../../auth/bindings'
import { decodeJwt } from '../../auth/jwt'
import { fetchToken, type TokenRequest, tokenUrlForTenant } from '../../auth/token-client'
import { DestinationError } from '../../errors'
import { parseWithExtras } from '../parse'
import {
  type AuthToken,
  type Destination,
  type DestinationCertificate,
  USER_DEPENDENT_AUTHENTICATIONS,
} from '../types'

const debug = debuglog('cap-connectivity:destination')
const TIMEOUT_MS = 10_000

export interface ServiceLookup {
  jwt?: string
  tenant?: string
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
}

/** The tenant id of the binding's own (provider) subaccount. */
export function providerTenantOf(binding: ServiceBinding): string | undefined {
  return (
    str(binding.credentials.tenantid) ??
    str(binding.credentials.identityzoneid) ??
    str(binding.credentials.zoneid)
  )
}

function serviceError(
  name: string,
  message: string,
  details: Record<string, string | number> = {},
  cause?: unknown,
) {
  return new DestinationError(
    'DESTINATION_SERVICE_FAILED',
    `Destination service lookup of "${name}" ${message}`,
    {
      details: { destination: name, ...details },
      ...(cause === undefined ? {} : { cause }),
    },
  )
}

/** Client-credentials token for the destination binding, in the caller's tenant. */
async function serviceToken(binding: ServiceBinding, name: string, lookup: ServiceLookup): Promise<string> {
  const c = binding.credentials
  const clientId = str(c.clientid)
  const mtls = str(c.certificate) !== undefined && str(c.key) !== undefined
  const base = (mtls ? str(c.certurl) : undefined) ?? str(c.url)
  if (!clientId || !base || (!mtls && str(c.clientsecret) === undefined)) {
    throw serviceError(
      name,
      `is impossible: the "${binding.name}" binding lacks clientid, clientsecret (or certificate/key) or url.`,
    )
  }
  const provider = providerTenantOf(binding)
  const target = tokenUrlForTenant(base, lookup.jwt, provider)
  // A tenant given without a JWT (background jobs of a subscriber) is selected by zone id.
  if (!lookup.jwt && lookup.tenant && lookup.tenant !== provider) target.headers['x-zid'] = lookup.tenant
  const req: TokenRequest = {
    tokenUrl: target.url,
    headers: target.headers,
    grantType: 'client_credentials',
    clientId,
  }
  const secret = str(c.clientsecret)
  if (secret !== undefined) req.clientSecret = secret
  if (mtls) req.tls = { cert: str(c.certificate) as string, key: str(c.key) as string }
  return (await fetchToken(req)).accessToken
}

interface FindResponse {
  owner?: { SubaccountId?: string | null; InstanceId?: string | null }
  destinationConfiguration?: Record<string, unknown>
  authTokens?: Record<string, unknown>[]
  certificates?: Record<string, unknown>[]
}

async function find(
  uri: string,
  name: string,
  token: string,
  skipTokens: boolean,
  userToken: string | undefined,
): Promise<FindResponse | undefined> {
  const url = `${uri.replace(/\/+$/, '')}/destination-configuration/v1/destinations/${encodeURIComponent(name)}${skipTokens ? '?$skipTokenRetrieval=true' : ''}`
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' }
  if (userToken) headers['x-user-token'] = userToken
  let status: number
  let text: string
  try {
    // undici is loaded on the first service call, so apps without a binding never pay for it
    const { request } = await import('undici')
    const res = await request(url, { method: 'GET', headers, signal: AbortSignal.timeout(TIMEOUT_MS) })
    status = res.statusCode
    text = await res.body.text()
  } catch (cause) {
    const reason =
      (cause as Error).name === 'TimeoutError' ? `timed out after ${TIMEOUT_MS} ms` : (cause as Error).message
    throw serviceError(name, `failed: ${reason}. Check the binding's uri and the network.`, {}, cause)
  }
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (status === 404) return undefined
  if (status !== 200) {
    const msg =
      typeof body === 'object' && body !== null
        ? str((body as Record<string, unknown>).ErrorMessage)
        : undefined
    throw serviceError(name, `failed with HTTP ${status}${msg ? `: ${msg.slice(0, 300)}` : ''}.`, { status })
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as FindResponse).destinationConfiguration !== 'object'
  ) {
    throw serviceError(name, 'returned no destinationConfiguration.', { status })
  }
  return body as FindResponse
}

function mapTokens(raw: readonly Record<string, unknown>[] | undefined): AuthToken[] {
  const now = Date.now()
  return (raw ?? []).map((t) => {
    const header = (
      typeof t.http_header === 'object' && t.http_header !== null ? t.http_header : {}
    ) as Record<string, unknown>
    const type = str(t.type) ?? ''
    const value = str(t.value) ?? ''
    const token: { -readonly [K in keyof AuthToken]: AuthToken[K] } = {
      type,
      value,
      httpHeader: {
        key: str(header.key) ?? 'Authorization',
        value: str(header.value) ?? `${type} ${value}`.trim(),
      },
    }
    const expiresIn = Number(t.expires_in)
    if (t.expires_in !== undefined && Number.isFinite(expiresIn)) token.expiresAt = now + expiresIn * 1000
    const error = str(t.error)
    if (error !== undefined) token.error = error
    return token
  })
}

function mapCertificates(raw: readonly Record<string, unknown>[] | undefined): DestinationCertificate[] {
  return (raw ?? []).map((c) => ({
    name: str(c.Name) ?? str(c.name) ?? '',
    content: str(c.Content) ?? str(c.content) ?? '',
    type: str(c.Type) ?? str(c.type) ?? 'CERTIFICATE',
  }))
}

/**
 * Authentications for which the service retrieves a token on "find". RefreshToken and
 * AuthorizationCode need caller input (`X-refresh-token`, `X-code`) that a lookup by name does not
 * have, so asking would only produce token errors; they resolve without tokens.
 */
function tokenBearing(auth: string): boolean {
  if (auth === 'OAuth2RefreshToken' || auth === 'OAuth2AuthorizationCode') return false
  return auth.startsWith('OAuth2') || auth === 'SAMLAssertion'
}

/**
 * Finds `name` in the Destination service of `binding`; undefined on 404.
 * @throws DestinationError DESTINATION_SERVICE_FAILED (HTTP error, all auth tokens failed, bad response);
 *   AuthError TOKEN_FETCH_FAILED when the service token cannot be fetched.
 */
export async function fetchFromService(
  binding: ServiceBinding,
  name: string,
  lookup: ServiceLookup,
): Promise<Destination | undefined> {
  const uri = str(binding.credentials.uri)
  if (!uri) throw serviceError(name, `is impossible: the "${binding.name}" binding has no uri.`)
  const token = await serviceToken(binding, name, lookup)
  const first = await find(uri, name, token, true, undefined)
  if (!first) return undefined
  const config = first.destinationConfiguration as Record<string, unknown>
  const auth = String(config.Authentication ?? '')
  const userDependent = USER_DEPENDENT_AUTHENTICATIONS.has(auth as never)
  const hasUser = lookup.jwt !== undefined && decodeJwt(lookup.jwt).user !== undefined
  let response = first
  // User flows without a user JWT resolve without tokens: the JWT matters when a request is sent.
  if (tokenBearing(auth) && (!userDependent || hasUser)) {
    response = (await find(uri, name, token, false, userDependent ? lookup.jwt : undefined)) ?? first
  }
  const authTokens = mapTokens(response.authTokens)
  const usable = authTokens.filter((t) => t.error === undefined)
  if (authTokens.length > 0 && usable.length === 0) {
    const errors = authTokens.map((t) => t.error).join('; ')
    throw serviceError(
      name,
      `returned no usable auth token (${errors.slice(0, 500)}). Check the destination's OAuth settings.`,
    )
  }
  const level = first.owner?.InstanceId ? 'instance' : 'subaccount'
  debug('destination %s from the destination service (%s level), %d token(s)', name, level, usable.length)
  const extras: { authTokens?: AuthToken[]; certificates?: DestinationCertificate[] } = {}
  if (usable.length > 0) extras.authTokens = usable
  const certificates = mapCertificates(response.certificates ?? first.certificates)
  if (certificates.length > 0) extras.certificates = certificates
  return parseWithExtras(
    response.destinationConfiguration,
    { source: 'service', origin: `destination service (${level})` },
    extras,
  )
}
