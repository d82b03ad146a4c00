/**
 * Pieces shared by request() and createDispatcher(): CSRF token fetch, mapping the proxy's own
 * answers to coded errors, draining responses we do not hand out.
 */
import { TransportError } from '../errors'
import { type CsrfEntry, cookiesFrom } from './csrf'
import type { HeaderMap } from './headers'
import { type Plan, requestTarget } from './plan'
import type { Response } from './response'
import { send } from './send'

/** Drains a response we do not hand out, so its socket returns to the pool. */
export async function discard(res: Response): Promise<void> {
  try {
    for await (const _ of res.body) {
      // drain
    }
  } catch {
    // The response is thrown away anyway.
  }
}

/**
 * The coded error for a proxy's own answer (407; 503 from the connectivity proxy; 403 marked with a
 * `Proxy-Status` header), or undefined when the response is the backend's.
 */
export function proxyStatusError(
  plan: Plan,
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  what: string,
): TransportError | undefined {
  const viaProxy = plan.route.kind === 'http-proxy'
  // Through our tunnel the agent answers refusals itself, marked with Proxy-Status like the proxy.
  if (!viaProxy && plan.route.kind !== 'tunnel') return undefined
  const marked = headers['proxy-status'] !== undefined
  const onPremise = viaProxy && plan.route.binding !== undefined
  const details = { requestSent: false, status, destination: plan.destination.name }
  if (status === 407 && viaProxy) {
    return new TransportError(
      'PROXY_AUTH_FAILED',
      `The proxy rejected its authorization (407) for ${what}; check the connectivity binding and the token's tenant.`,
      { details },
    )
  }
  if (status === 503 && (onPremise || marked)) {
    return new TransportError(
      'NO_AGENT',
      `No Cloud Connector or agent serves ${what} (503 from the connectivity proxy); check that it is connected and the location id "${plan.destination.locationId}".`,
      { details },
    )
  }
  if (status === 403 && marked) {
    return new TransportError(
      'ACCESS_DENIED',
      `The connectivity proxy or agent denied ${what} (403); expose the host and path in the Cloud Connector / agent mapping.`,
      { details },
    )
  }
  return undefined
}

/** Throws the coded error for a proxy's own answer (draining it first); backend responses pass. */
export async function proxyAnswer(plan: Plan, res: Response, what: string): Promise<void> {
  const error = proxyStatusError(plan, res.status, res.headers, what)
  if (error) {
    await discard(res)
    throw error
  }
}

export async function fetchCsrf(
  plan: Plan,
  path: string,
  headers: HeaderMap,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<CsrfEntry | undefined> {
  const { path: target, host } = requestTarget(plan, path.split('?', 1)[0] ?? '/')
  const h: HeaderMap = { ...headers, ...plan.proxyHeaders, 'x-csrf-token': 'Fetch' }
  delete h['content-type']
  delete h['content-length']
  if (host) h.host = host
  const res = await send(
    plan.dispatcher,
    { method: 'HEAD', path: target, headers: h },
    { what: `CSRF token fetch for destination "${plan.destination.name}"`, timeoutMs, signal },
  )
  await proxyAnswer(plan, res, `destination "${plan.destination.name}"`)
  await discard(res)
  const token = res.headers['x-csrf-token']
  const value = Array.isArray(token) ? token[0] : token
  if (!value || value.toLowerCase() === 'required') return undefined
  const cookies = cookiesFrom(res.headers['set-cookie'])
  return cookies ? { token: value, cookies } : { token: value }
}
