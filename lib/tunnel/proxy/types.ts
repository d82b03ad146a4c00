/**
 * The narrow interface between the local connectivity proxy front-ends (HTTP, SOCKS5) and whatever
 * carries their streams — the tunnel server's agent sessions in production.
 */
import type { Duplex } from 'node:stream'

/** What a front-end asks the stream opener for. */
export interface ProxyStreamRequest {
  /** Account of the authenticated caller; only this account's agents may serve the stream. */
  readonly account: string
  /** Cloud Connector location id (`''` = default location). */
  readonly locationId: string
  /** Virtual host:port as the agent's mappings know it. */
  readonly target: { readonly host: string; readonly port: number }
  /** `http`: one HTTP/1.1 request follows on the stream; `tcp`: raw bytes (SOCKS5). */
  readonly kind: 'http' | 'tcp'
  /** The user JWT for principal propagation at the agent (HTTP only). Secret: never log it. */
  readonly principal?: string
  /** Aborts the open when the caller goes away. */
  readonly signal?: AbortSignal
}

/**
 * Opens a stream to the target through an agent. Rejects with a ConnectivityError whose code says
 * why: `TUNNEL_NO_AGENT`/`NO_AGENT` (no live agent), `ACCESS_DENIED` (not on the allowlist),
 * `CONNECT_FAILED`/`CONNECT_TIMEOUT` (backend unreachable from the agent).
 */
export type ProxyStreamOpener = (request: ProxyStreamRequest) => Promise<Duplex>

/** The caller a proxy token stands for. */
export interface ProxyCaller {
  readonly account: string
  /** True when the proxy token itself is a user token (form B: exchanged token) to propagate. */
  readonly isUserToken?: boolean
}

/**
 * Authenticates a proxy caller by the token in `Proxy-Authorization` (HTTP) or the SOCKS5 0x80
 * auth request. Rejects (any error) when the token is missing, expired or not trusted.
 */
export type ProxyAuthenticator = (token: string | undefined) => Promise<ProxyCaller>
