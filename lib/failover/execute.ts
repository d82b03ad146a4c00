/**
 * One request through a group: try members in routing order and apply the retry rules.
 * - Nothing was sent (the connection could not be established): a request of every method moves to the next member.
 * - Bytes were sent: an idempotent request is retried once on the next member; a listed status
 *   (`retryOn: ["503"]`) counts the same, and that response is discarded.
 * - A non-idempotent request that may have reached a member is never sent twice: REQUEST_NOT_RETRIED.
 */
import { isConnectivityError, TransportError } from '../errors'
import { type AttemptFailure, classifyFailure } from './classify'
import type { GroupRuntime } from './group-runtime'
import { countRequest } from './metrics'

export interface GroupAttempt<R> {
  /** `GET`, `POST` …, or `CONNECT` for TCP. */
  readonly method: string
  readonly idempotent: boolean
  /** Sends the request to one member. */
  send(destination: string): Promise<R>
  /** The HTTP status of a result (undefined for TCP sockets). */
  statusOf(result: R): number | undefined
  /** Releases a result that is thrown away (drains the body). */
  discard(result: R): Promise<void>
  /** False when the body can no longer be sent again (a stream already read). */
  replayable(): boolean
  readonly signal?: AbortSignal | undefined
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** RFC 9110 idempotent methods; `explicit` (`init.idempotent`) overrides. */
export function isIdempotent(method: string, explicit: boolean | undefined): boolean {
  return explicit ?? IDEMPOTENT.has(method.toUpperCase())
}

function retryable(f: AttemptFailure, retryOn: readonly (string | number)[]): boolean {
  if (f.kind === 'fatal') return false
  if (retryOn.includes(f.kind)) return true
  return f.alsoConnectError === true && retryOn.includes('connect-error')
}

/**
 * Runs `attempt` on the group's members.
 * @throws TransportError REQUEST_NOT_RETRIED when a non-idempotent request failed after it may have reached a member.
 * @throws TransportError NO_HEALTHY_MEMBER when no member could be reached at all.
 * Other errors of the last attempt are rethrown unchanged.
 */
export async function executeOnGroup<R>(runtime: GroupRuntime, attempt: GroupAttempt<R>): Promise<R> {
  runtime.touch()
  const group = runtime.group
  const candidates = runtime.order()
  const tried: string[] = []
  let sentRetries = 0
  let lastError: unknown
  for (let i = 0; i < candidates.length; i++) {
    const member = (candidates[i] as { destination: string }).destination
    const hasNext = i < candidates.length - 1
    let result: R
    try {
      result = await attempt.send(member)
    } catch (err) {
      const f = classifyFailure(err)
      tried.push(`${member} (${f.code})`)
      lastError = err
      if (f.kind !== 'fatal') runtime.observe(member, false)
      const stop = attempt.signal?.aborted === true || !retryable(f, group.retryOn)
      if (stop) {
        countRequest(group.name, member, 'failed')
        throw err
      }
      if (!f.sent) {
        if (hasNext && attempt.replayable()) {
          countRequest(group.name, member, 'retried')
          continue
        }
        countRequest(group.name, member, 'failed')
        if (hasNext) throw err
        throw noMemberReached(group.name, tried, err)
      }
      if (!attempt.idempotent) {
        countRequest(group.name, member, 'failed')
        throw notRetried(group.name, member, attempt.method, f.code, err)
      }
      if (sentRetries >= 1 || !hasNext || !attempt.replayable()) {
        countRequest(group.name, member, 'failed')
        throw err
      }
      sentRetries++
      countRequest(group.name, member, 'retried')
      continue
    }
    const status = attempt.statusOf(result)
    if (status !== undefined && group.retryOn.includes(status)) {
      runtime.observe(member, false)
      tried.push(`${member} (status ${status})`)
      if (!attempt.idempotent) {
        await attempt.discard(result)
        countRequest(group.name, member, 'failed')
        throw notRetried(group.name, member, attempt.method, `status ${status}`, undefined, status)
      }
      if (sentRetries < 1 && hasNext && attempt.replayable() && attempt.signal?.aborted !== true) {
        await attempt.discard(result)
        sentRetries++
        countRequest(group.name, member, 'retried')
        continue
      }
      // No retry left: the caller gets the member's own answer rather than an invented error.
      countRequest(group.name, member, 'failed')
      runtime.served(member)
      return result
    }
    runtime.observe(member, true)
    runtime.served(member)
    countRequest(group.name, member, 'ok')
    return result
  }
  throw noMemberReached(group.name, tried, lastError)
}

function notRetried(
  group: string,
  member: string,
  method: string,
  what: string,
  cause: unknown,
  status?: number,
): TransportError {
  return new TransportError(
    'REQUEST_NOT_RETRIED',
    `${method} through destination group "${group}" failed on member "${member}" (${what}) after the request was sent; ` +
      `it may have reached the server, so it was not sent to another member. Check on "${member}" whether it was processed, ` +
      'or pass idempotent: true if the request is safe to repeat.',
    {
      ...(cause === undefined ? {} : { cause }),
      details: {
        group,
        destination: member,
        method,
        requestSent: true,
        ...(status === undefined ? {} : { status }),
      },
    },
  )
}

function noMemberReached(group: string, tried: readonly string[], cause: unknown): TransportError {
  const sent = isConnectivityError(cause) ? cause.details.requestSent === true : false
  return new TransportError(
    'NO_HEALTHY_MEMBER',
    `No member of destination group "${group}" could be reached (tried ${tried.join(', ') || 'none'}). ` +
      'Check that the member systems are up, or run "cap-connectivity drill" to see the group status.',
    { ...(cause === undefined ? {} : { cause }), details: { group, requestSent: sent } },
  )
}
