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

/** Turns the proxy's own answers (407, 503 no agent, marked 403) into coded errors. */
export async function proxyAnswer(plan: Plan, res: Response, what: string): Promise<void> {
  if (plan.route.kind !== 'http-proxy') return
  const marked = res.headers['proxy-status'] !== undefined
  const onPremise = plan.route.binding !== undefined
  let error: TransportError | undefined
  const details = { requestSent: false, status: res.status, destination: plan.destination.name }
  if (res.status === 407) {
    error = new TransportError(
      'PROXY_AUTH_FAILED',
      `The proxy rejected its authorization (407) for ${what}; check the connectivity binding and the token's tenant.`,
      { details },
    )
  } else if (res.status === 503 && (onPremise || marked)) {
    error = new TransportError(
      'NO_AGENT',
      `No Cloud Connector or agent serves ${what} (503 from the connectivity proxy); check that it is connected and the location id "${plan.destination.locationId}".`,
      { details },
    )
  } else if (res.status === 403 && marked) {
    error = new TransportError(
      'ACCESS_DENIED',
      `The connectivity proxy or agent denied ${what} (403); expose the host and path in the Cloud Connector / agent mapping.`,
      { details },
    )
  }
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
