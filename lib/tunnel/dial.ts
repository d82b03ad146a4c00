/**
 * Dials the tunnel server: WebSocket upgrade with the bearer token, role and location headers.
 * A 401/403 becomes TUNNEL_AUTH_FAILED (callers must not retry it blindly); anything else is
 * CONNECT_FAILED / CONNECT_TIMEOUT.
 */
import WebSocket from 'ws'
import { TunnelError } from '../errors'
import { LIMITS, SUBPROTOCOL } from './frames'
import { type SessionOptions, TunnelSession } from './session'

export type TokenSource = string | (() => string | Promise<string>)

export interface DialOptions {
  /** ws:// or wss:// URL of the tunnel server (path included). */
  readonly url: string
  readonly token: TokenSource
  readonly role: 'agent' | 'client'
  readonly locationId?: string
  /** Extra upgrade headers (e.g. `X-CF-APP-INSTANCE`). */
  readonly headers?: Readonly<Record<string, string>>
  /** TLS settings for wss:// (e.g. a private CA in development). */
  readonly tls?: { readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean }
  readonly handshakeTimeoutMs?: number
  /**
   * Send client frames with an all-zero masking key, which lets ws skip masking (a documented
   * departure from RFC 6455 §5.3). Masking only protects plain-text intermediaries, so the default
   * is on for wss:// (TLS already hides the bytes) and off for ws://.
   */
  readonly zeroMask?: boolean
  readonly session?: Omit<SessionOptions, 'initiator'>
}

/** Checks a server URL: ws(s) only, no credentials in it. @throws TypeError */
export function checkServerUrl(url: string): URL {
  let u: URL
  try {
    u = new URL(url.replace(/^http(s?):/, 'ws$1:'))
  } catch {
    throw new TypeError(`server must be a ws:// or wss:// URL, got "${url}"`)
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new TypeError(`server must be a ws:// or wss:// URL, got "${url}"`)
  if (u.username || u.password)
    throw new TypeError('server URL must not contain credentials; use the token option')
  return u
}

export async function resolveToken(token: TokenSource): Promise<string> {
  const t = typeof token === 'function' ? await token() : token
  if (typeof t !== 'string' || !t) throw new TypeError('token must be a non-empty string')
  return t
}

/** Opens a session; resolves once the upgrade succeeded. */
export async function dialSession(opts: DialOptions): Promise<TunnelSession> {
  const url = checkServerUrl(opts.url)
  const token = await resolveToken(opts.token)
  const where = `${url.host}${url.pathname}`
  const zeroMask = opts.zeroMask ?? url.protocol === 'wss:'
  const ws = new WebSocket(url, SUBPROTOCOL, {
    headers: {
      ...opts.headers,
      authorization: `Bearer ${token}`,
      'x-tunnel-role': opts.role,
      'x-tunnel-location': encodeURIComponent(opts.locationId ?? ''),
    },
    perMessageDeflate: false,
    maxPayload: LIMITS.maxData + 64,
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
    followRedirects: false,
    ...(zeroMask ? { generateMask: (mask: Buffer) => void mask.fill(0) } : {}),
    ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
    ...(opts.tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  })
  // Wrap before 'open' so no early frame from the server is missed.
  const session = new TunnelSession(ws, {
    ...opts.session,
    initiator: true,
    zeroMask,
    label: `${opts.role}→${where}`,
  })
  return new Promise<TunnelSession>((resolve, reject) => {
    const cleanup = (): void => {
      ws.off('open', onOpen)
      ws.off('unexpected-response', onResponse)
      ws.off('error', onError)
    }
    const onOpen = (): void => {
      cleanup()
      resolve(session)
    }
    const onResponse = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
      cleanup()
      res.resume()
      const status = res.statusCode ?? 0
      ws.terminate()
      if (status === 401 || status === 403) {
        reject(
          new TunnelError(
            'TUNNEL_AUTH_FAILED',
            `Tunnel server ${where} refused the token (HTTP ${status}); check the token, its audience and expiry.`,
            { details: { status, server: where, requestSent: false } },
          ),
        )
      } else {
        reject(
          new TunnelError(
            'CONNECT_FAILED',
            `Tunnel server ${where} answered the upgrade with HTTP ${status}; check the URL and path.`,
            {
              details: { status, server: where, requestSent: false },
            },
          ),
        )
      }
    }
    const onError = (err: Error & { code?: string }): void => {
      cleanup()
      ws.terminate()
      const timeout = /timed out|timeout/i.test(err.message)
      reject(
        new TunnelError(
          timeout ? 'CONNECT_TIMEOUT' : 'CONNECT_FAILED',
          `Cannot reach tunnel server ${where} (${err.code ?? err.message}).`,
          {
            cause: err,
            details: { server: where, requestSent: false },
          },
        ),
      )
    }
    ws.on('open', onOpen)
    ws.on('unexpected-response', onResponse)
    ws.on('error', onError)
  })
}
