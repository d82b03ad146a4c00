/**
 * One HTTP exchange on an undici dispatcher with a deadline that really aborts, AbortSignal
 * support, and errors that say whether request bytes may have reached the server
 * (`details.requestSent`): undici calls `onRequestStart` right before it writes the request to a
 * connected socket, so anything failing earlier provably sent nothing.
 */
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { isConnectivityError, TransportError } from '../errors'
import { Response } from './response'

export interface SendMeta {
  /** For messages: `destination "X" (GET http://host/path)` without query values. */
  readonly what: string
  /** Deadline until the response headers, and the longest pause between body chunks. */
  readonly timeoutMs: number
  readonly signal?: AbortSignal | undefined
}

interface Controller {
  abort(reason: Error): void
  pause(): void
  resume(): void
}

type Headers = Record<string, string | string[]>

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const out: Headers = {}
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) out[k.toLowerCase()] = v
  return out
}

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNABORTED',
])

/** Maps whatever undici or a connector raised onto our codes, keeping the original as `cause`. */
export function mapError(err: unknown, sent: boolean, what: string): Error {
  if (isConnectivityError(err)) {
    if (typeof err.details.requestSent === 'boolean') return err
    return new TransportError(err.code, err.message, {
      cause: err.cause,
      details: { ...err.details, requestSent: sent },
    })
  }
  const code = (err as { code?: string })?.code ?? ''
  if (!sent && code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new TransportError('CONNECT_TIMEOUT', `Connecting for ${what} timed out.`, {
      cause: err,
      details: { requestSent: false },
    })
  }
  if (!sent || NOT_SENT_CODES.has(code)) {
    return new TransportError(
      'CONNECT_FAILED',
      `Could not connect for ${what}: ${code || (err as Error)?.message}. Check the URL and that the server is up.`,
      {
        cause: err,
        details: { requestSent: false },
      },
    )
  }
  return new TransportError(
    'CONNECTION_RESET',
    `The connection broke during ${what} (${code || (err as Error)?.message}); the server may have received the request.`,
    {
      cause: err,
      details: { requestSent: true },
    },
  )
}

/**
 * Dispatches one request and resolves with the response once its headers arrived.
 * @throws HTTP_TIMEOUT, REQUEST_ABORTED, CONNECT_FAILED, CONNECT_TIMEOUT, CONNECTION_RESET and connector codes
 */
export function send(
  dispatcher: Dispatcher,
  opts: Dispatcher.DispatchOptions,
  meta: SendMeta,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let sent = false
    let settled = false
    let finished = false
    let controller: Controller | undefined
    let body: Readable | undefined
    let pendingAbort: Error | undefined
    let timer: NodeJS.Timeout | undefined

    const fail = (err: Error): void => {
      if (finished) return
      finished = true
      cleanup()
      if (controller) controller.abort(err)
      else pendingAbort = err
      if (!settled) {
        settled = true
        reject(err)
      } else body?.destroy(err)
    }
    const onTimeout = (): void => {
      fail(
        new TransportError(
          'HTTP_TIMEOUT',
          `No response within ${meta.timeoutMs} ms for ${meta.what}; the request was aborted. Raise "timeout" if the backend is slow.`,
          {
            details: { requestSent: sent, timeoutMs: meta.timeoutMs },
          },
        ),
      )
    }
    const arm = (): void => {
      // refresh() restarts the same timer: cheaper than clear + set on every body chunk.
      if (timer) timer.refresh()
      else if (meta.timeoutMs > 0 && meta.timeoutMs !== Number.POSITIVE_INFINITY)
        timer = setTimeout(onTimeout, meta.timeoutMs)
    }
    const onAbort = (): void => {
      fail(
        new TransportError('REQUEST_ABORTED', `${meta.what} was aborted by the caller.`, {
          cause: meta.signal?.reason,
          details: { requestSent: sent },
        }),
      )
    }
    const cleanup = (): void => {
      if (timer) clearTimeout(timer)
      meta.signal?.removeEventListener('abort', onAbort)
    }

    if (meta.signal?.aborted) {
      settled = true
      reject(
        new TransportError('REQUEST_ABORTED', `${meta.what} was aborted before it started.`, {
          cause: meta.signal.reason,
          details: { requestSent: false },
        }),
      )
      return
    }
    meta.signal?.addEventListener('abort', onAbort, { once: true })
    arm()

    const handler = {
      onRequestStart(c: Controller): void {
        controller = c
        if (pendingAbort) {
          c.abort(pendingAbort)
          return
        }
        sent = true
      },
      onResponseStart(
        c: Controller,
        statusCode: number,
        headers: Record<string, string | string[] | undefined>,
        statusText: string,
      ): void {
        arm()
        body = new Readable({
          read() {
            // The consumer wants data again: the idle deadline runs from here.
            if (!finished) arm()
            c.resume()
          },
          destroy(err, cb) {
            if (!finished) {
              finished = true
              cleanup()
              c.abort(err ?? new Error('response body destroyed'))
            }
            cb(err)
          },
        })
        settled = true
        resolve(new Response(statusCode, statusText ?? '', toHeaders(headers), body))
      },
      onResponseData(c: Controller, chunk: Buffer): void {
        arm()
        if (body && !body.push(chunk)) {
          // A slow consumer is not a slow server: stop the deadline while we hold the body back.
          if (timer) clearTimeout(timer)
          timer = undefined
          c.pause()
        }
      },
      onResponseEnd(): void {
        finished = true
        cleanup()
        body?.push(null)
      },
      onResponseError(_c: Controller | null, err: Error): void {
        if (finished) return
        fail(mapError(err, sent, meta.what))
      },
    }
    try {
      dispatcher.dispatch(opts, handler as unknown as Dispatcher.DispatchHandler)
    } catch (err) {
      fail(mapError(err, false, meta.what))
    }
  })
}
